#pragma once
// Reads the description files (the format: docs/ARCHITECTURE.md, "controlplane/schema") into a
// Registry: a first pass records every type with its fields' type expressions, a second resolves
// those expressions to TypeDefs, so a file may name a type described later or elsewhere.
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "controlplane/schema/registry.h"

namespace berth::controlplane::schema {

class DescriptionParser {
 public:
  explicit DescriptionParser(Registry& registry) : registry_(registry) {}

  [[nodiscard]] Status parseFile(const DescriptionFile& file);
  // After every file: resolves type names, indexes fields and kinds, checks merge keys.
  [[nodiscard]] Status resolve();

 private:
  struct Pending {  // a field whose type expression waits for every type to be known
    TypeDef* owner;
    std::size_t field;
    std::string_view expr;
    std::string_view package;
    std::unordered_map<std::string_view, std::string_view> aliases;
    std::string_view file;
    int line;
  };

  [[nodiscard]] Status parseLine(std::string_view line);
  [[nodiscard]] Status parseType(std::span<const std::string_view> tokens,
                                 std::string_view description);
  [[nodiscard]] Status parseField(std::span<const std::string_view> tokens,
                                  std::string_view description);
  [[nodiscard]] Status parseColumn(std::span<const std::string_view> tokens,
                                   std::string_view description);
  [[nodiscard]] Result<TypeRef> resolveExpr(const Pending& p, std::string_view expr);
  std::string qualify(std::string_view name, std::string_view package,
                      const std::unordered_map<std::string_view, std::string_view>& aliases);
  Error at(std::string_view message) const;

  Registry& registry_;
  std::vector<Pending> pending_;
  std::vector<std::pair<std::string, PrinterColumn>> pendingColumns_;  // by qualified type name
  // The state of the file being read.
  std::string_view file_;
  int line_ = 0;
  std::string_view package_;
  std::unordered_map<std::string_view, std::string_view> aliases_;
  TypeDef* current_ = nullptr;      // the type whose fields follow
  std::string currentColumnsType_;  // or the type whose columns follow
};

}  // namespace berth::controlplane::schema
