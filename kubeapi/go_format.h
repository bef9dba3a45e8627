#pragma once
// Go's formatting of strings and numbers where apimachinery's messages embed them: %q
// (strconv.Quote) around names and values, %v of a float64. Messages built here read as the
// upstream ones byte for byte for ASCII input; for non-ASCII runes the printable test is an
// approximation of Go's unicode.IsPrint (C1 controls, U+00AD and the line/paragraph separators
// are escaped, every other valid rune is printed as is).
#include <string>
#include <string_view>

namespace berth::kubeapi {

// strconv.Quote: double-quoted, with Go escapes (\n, \t, \x7f, \u00ad, invalid bytes as \xNN).
std::string goQuote(std::string_view s);

// fmt's %v of a float64 (strconv.FormatFloat(f, 'g', -1, 64) with %v's exponent threshold of 21):
// 1.5 -> "1.5", 1e+21 -> "1e+21", 100 -> "100".
std::string goFloat(double f);

}  // namespace berth::kubeapi
