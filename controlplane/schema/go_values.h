#pragma once
// How the apiserver's Go decoder judges and names scalar values, for decode errors worded as its
// own: strconv.Quote, base64.StdEncoding's CorruptInputError offsets, resource.ParseQuantity's
// syntax errors and time.Parse's RFC 3339 errors.
//
// kubeapi/ (meta_time.h, go_format.h) has the formatting and parsing the client uses too; this
// file adds the syntax checks that word the decoder's errors.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "controlplane/schema/type_def.h"
#include "kubeapi/go_format.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::schema {

// strconv.Quote.
using kubeapi::goQuote;

// The offset base64.StdEncoding.Decode reports as "illegal base64 data at input byte N", or
// nullopt when `s` decodes (CR and LF are skipped, as Go skips them).
std::optional<std::size_t> base64ErrorOffset(std::string_view s);

// resource.ParseQuantity's verdict: nullopt, or its error message.
std::optional<std::string> quantityError(std::string_view s);

// time.Parse(time.RFC3339, s) (or RFC3339Micro, which needs exactly six fraction digits): nullopt,
// or Go's error message ("parsing time \"x\" as \"2006-01-02T15:04:05Z07:00\": cannot parse ...").
std::optional<std::string> timeError(std::string_view s, bool micro);

using TimePoint = kubeapi::Time;

// An RFC 3339 time as time.Parse(time.RFC3339) reads it (any fraction, Z or an offset).
std::optional<TimePoint> parseTime(std::string_view s);
// time.RFC3339 in UTC, seconds: "2024-05-01T10:20:30Z".
using kubeapi::formatTime;
// apimachinery's duration.HumanDuration: "45s", "3m20s", "5h", "12d", "3y40d"; "<invalid>" for
// a time more than a second in the future.
std::string humanDuration(std::chrono::nanoseconds d);

// The Go type a described type decodes into, as reflect prints it: "int32", "[]uint8",
// "[]v1.Container", "map[string]string", "v1.PodSpec".
std::string goTypeName(const TypeRef& type);
// Its reflect.Kind: "string", "slice", "map", "struct", ...
std::string_view goKindName(const TypeRef& type);
// The Go zero value of a value of the type, as JSON: "", 0, false, {} for a struct; null for
// what Go writes as null (nil slices and maps) or has no JSON zero (named scalars).
nlohmann::json goZeroValue(const TypeRef& type);

// fmt's %v of a decoded JSON value (map[string]interface{} and friends), as patch errors print
// them: map[a:1 b:[x y]] with sorted keys, <nil> for null.
std::string goValueString(const nlohmann::json& value);

}  // namespace berth::controlplane::schema
