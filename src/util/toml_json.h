// A TOML document as JSON (the form configs, search spaces and checkpoints carry settings in):
// tables -> objects, arrays -> arrays, integers stay integers. Dates and times are not settings:
// UsageError("<where>.<key>: dates and times are not settings").
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <toml++/toml.h>

namespace kws {

nlohmann::json TomlToJson(const toml::node& n, const std::string& where);

// Parses a TOML document; a syntax error is UsageError("<source>:<line>:<column>: <description>").
toml::table ParseToml(const std::string& text, const std::string& source);

}  // namespace kws
