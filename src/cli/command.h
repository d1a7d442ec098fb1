// The CLI is one executable with a subcommand per job. Each subcommand lives
// in its own src/cli/<name>.cc, binds its flags to a plain options struct and
// calls one library function. It registers itself with a static Registrar, so
// adding a command never touches main.cc:
//
//   namespace {
//   struct Opts { std::string clip; bool json = false; };
//   kws::cli::Registrar reg("features", "Compute log-mel / MFCC features of a clip",
//     [](CLI::App& app) {
//       auto o = std::make_shared<Opts>();
//       app.add_option("clip", o->clip, "WAV file")->required();
//       app.add_flag("--json", o->json, "print JSON");
//       return [o]() -> int { ...; return 0; };
//     });
//   }
//
// Nested subcommands ("data stats") use a space in the name; the parent
// ("data") is created on demand.
//
// Exit codes: 0 ok, 1 usage, 2 bad input, 3 internal (see util/error.h).
// Commands report problems by throwing kws::Error; main() prints
// "kws <cmd>: <message>" and exits with the error's code.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace kws::cli {

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App&)>;

struct CommandSpec {
  std::string name;         // "features" or "data stats"
  std::string description;  // one line for `kws --help`
  Setup setup;
  std::string footer;       // examples shown by `kws <cmd> --help`
};

std::vector<CommandSpec>& Registry();

struct Registrar {
  Registrar(std::string name, std::string description, Setup setup, std::string footer = "") {
    Registry().push_back({std::move(name), std::move(description), std::move(setup), std::move(footer)});
  }
};

// A flag's number must lie in [min, max] ("--threads: -1: must be from 0 to 1024 (0 = all cores)"; CLI11's
// own NonNegativeNumber prints its range up to 1.8e308). `note` follows the range in the message.
inline CLI::Validator InRange(double min, double max, const std::string& note = "") {
  auto fmt = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return std::string(b);
  };
  const std::string range = max < 1e300 ? "from " + fmt(min) + " to " + fmt(max) : fmt(min) + " or more";
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(s, v) || !(v >= min && v <= max))
          return s + ": must be " + range + (note.empty() ? "" : " (" + note + ")");
        return "";
      },
      "[" + range + "]");
}

// Global flags every command sees (set before the command runs).
struct GlobalOptions {
  bool quiet = false;
  bool verbose = false;
  int threads = 0;  // 0 = all cores
};
const GlobalOptions& Globals();

}  // namespace kws::cli
