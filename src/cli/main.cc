// kws — keyword spotting from WAV folders to a pruned, quantized .tflite.
#include <cstdio>
#include <map>
#include <memory>

#include "cli/command.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parallel.h"
#include "util/text.h"

namespace kws::cli {

std::vector<CommandSpec>& Registry() {
  static std::vector<CommandSpec> r;
  return r;
}

static GlobalOptions g_options;
const GlobalOptions& Globals() { return g_options; }

}  // namespace kws::cli

int main(int argc, char** argv) {
  using namespace kws::cli;
  CLI::App app{"kws: keyword spotting from WAV folders to a tiny, pruned, quantized .tflite model", "kws"};
  app.set_version_flag("--version", std::string("kws ") + KWS_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_flag("-q,--quiet", g_options.quiet, "Only results and errors")->configurable(false);
  app.add_flag("-v,--verbose", g_options.verbose, "More detail on stderr");
  app.add_option("-j,--threads", g_options.threads, "Worker threads (default: all cores)")->check(InRange(0, 1024, "0 = all cores"));
  app.footer("Run `kws <command> --help` for a command's flags and examples.\n"
             "Exit codes: 0 ok, 1 usage, 2 bad input, 3 internal error.");

  std::map<std::string, CLI::App*> parents;
  std::map<std::string, std::string> group_leaves;
  std::vector<std::pair<CLI::App*, Runner*>> bound;
  std::vector<std::unique_ptr<Runner>> runners;
  std::string running_name;
  for (auto& spec : Registry()) {
    CLI::App* parent = &app;
    std::string leaf = spec.name;
    if (auto sp = spec.name.find(' '); sp != std::string::npos) {
      std::string group = spec.name.substr(0, sp);
      leaf = spec.name.substr(sp + 1);
      auto it = parents.find(group);
      if (it == parents.end()) {
        CLI::App* g = app.add_subcommand(group, group + " subcommands");
        g->require_subcommand(1);
        it = parents.emplace(group, g).first;
      }
      parent = it->second;
      // "data: stats, synth" once every leaf is known (below).
      group_leaves[group] += (group_leaves[group].empty() ? "" : ", ") + leaf;
    }
    CLI::App* sub = parent->add_subcommand(leaf, spec.description);
    if (!spec.footer.empty()) sub->footer(spec.footer);
    runners.push_back(std::make_unique<Runner>(spec.setup(*sub)));
    Runner* r = runners.back().get();
    std::string full = spec.name;
    sub->callback([r, full, &running_name]() {
      running_name = full;
      // Real work happens after parsing finishes (below), so that parse errors win.
    });
    bound.emplace_back(sub, r);
  }
  for (auto& [group, g] : parents) g->description(group + " commands: " + group_leaves[group]);
  // `kws help [cmd]` mirrors --help.
  std::vector<std::string> help_topic;
  CLI::App* help = app.add_subcommand("help", "Show help for kws or for one command");
  help->add_option("command", help_topic, "Command name, and a sub-command (kws help data stats)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // One line, as every other error: the flag and the problem.
    std::fprintf(stderr, "kws: %s (see --help)\n", kws::Printable(e.what()).c_str());
    return 1;
  }

  if (help->parsed()) {
    // CLI11's help() shows the help of the subcommand that was parsed (here: `help` itself), so
    // forget the parse first; a subcommand's usage line then needs its parents' names as prefix.
    const std::vector<std::string> topic = help_topic;
    app.clear();
    CLI::App* target = &app;
    std::string prefix;
    for (const auto& t : topic) {
      try {
        prefix = target == &app ? app.get_name() : prefix + " " + target->get_name();
        target = target->get_subcommand(t);
      } catch (const CLI::Error&) {
        std::fprintf(stderr, "kws help: unknown command '%s'\n", t.c_str());
        return 1;
      }
    }
    std::fputs(target->help(prefix).c_str(), stdout);
    return 0;
  }

  kws::SetVerbosity(g_options.quiet ? kws::Verbosity::kQuiet
                    : g_options.verbose ? kws::Verbosity::kVerbose : kws::Verbosity::kNormal);
  kws::SetNumThreads(g_options.threads);

  for (auto& [sub, runner] : bound) {
    if (!sub->parsed()) continue;
    try {
      return (*runner)();
    } catch (const kws::Error& e) {
      std::fprintf(stderr, "kws %s: %s\n", running_name.c_str(), kws::Printable(e.what()).c_str());
      return e.exit_code();
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "kws %s: out of memory\n", running_name.c_str());
      return 3;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kws %s: internal error: %s\n", running_name.c_str(), kws::Printable(e.what()).c_str());
      return 3;
    }
  }
  std::fputs(app.help().c_str(), stderr);
  return 1;
}
