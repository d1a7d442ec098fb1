#include "model/graph.h"

#include <algorithm>
#include <map>
#include <queue>

#include "layers/layer_util.h"
#include "util/error.h"

namespace kws {

namespace {

using json = nlohmann::json;

constexpr const char* kInputName = "input";

std::string Where(const Layer& l) { return "layer '" + l.name + "'"; }

// The input names a config entry gives: null = the default.
std::vector<std::string> InputNames(const json& cfg, const std::string& where) {
  if (!cfg.contains("inputs")) return {};
  const json& v = cfg["inputs"];
  std::vector<std::string> names;
  if (v.is_string()) names.push_back(v.get<std::string>());
  else if (v.is_array())
    for (const json& e : v) {
      if (!e.is_string()) throw UsageError(where + ": 'inputs' must be a layer name or a list of layer names");
      names.push_back(e.get<std::string>());
    }
  else
    throw UsageError(where + ": 'inputs' must be a layer name or a list of layer names");
  if (names.empty()) throw UsageError(where + ": 'inputs' is empty");
  return names;
}

// Makes the layers in listed order, names them, and resolves their inputs to listed indices.
struct Listed {
  std::vector<std::unique_ptr<Layer>> layers;
  std::vector<std::vector<int>> inputs;
};
Listed MakeListed(const json& layers) {
  Listed l;
  std::map<std::string, int> counts, index;
  std::vector<std::vector<std::string>> names;
  for (size_t i = 0; i < layers.size(); ++i) {
    json cfg = layers[i];
    const std::string given = cfg.is_object() ? cfg.value("name", "") : "";
    names.push_back(InputNames(cfg, "layer '" + (given.empty() ? std::to_string(i) : given) + "'"));
    if (cfg.is_object()) cfg.erase("inputs");
    std::unique_ptr<Layer> layer = MakeLayer(cfg);
    if (layer->name.empty()) layer->name = layer->type() + "_" + std::to_string(++counts[layer->type()]);
    if (layer->name == kInputName)
      throw UsageError(Where(*layer) + ": the name 'input' is reserved for the model input");
    if (!index.emplace(layer->name, int(i)).second) throw UsageError(Where(*layer) + ": name used twice");
    l.layers.push_back(std::move(layer));
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    std::vector<int> in;
    if (names[i].empty()) in.push_back(int(i) - 1);
    for (const std::string& n : names[i]) {
      if (n == kInputName) {
        in.push_back(-1);
        continue;
      }
      auto it = index.find(n);
      if (it == index.end())
        throw UsageError(Where(*l.layers[i]) + ": input '" + n + "' is not the name of a layer (nor 'input')");
      if (it->second == int(i)) throw UsageError(Where(*l.layers[i]) + ": reads its own output (a cycle)");
      in.push_back(it->second);
    }
    CheckInputCount(*l.layers[i], in.size());
    l.inputs.push_back(std::move(in));
  }
  return l;
}

// A cycle among the unplaced layers, as "a -> b -> a" (following inputs backwards, printed forwards).
std::string FindCycle(const Listed& l, const std::vector<char>& placed) {
  int v = int(std::find(placed.begin(), placed.end(), 0) - placed.begin());
  std::vector<int> seen(l.layers.size(), -1), path;
  while (seen[size_t(v)] < 0) {
    seen[size_t(v)] = int(path.size());
    path.push_back(v);
    for (int p : l.inputs[size_t(v)])
      if (p >= 0 && !placed[size_t(p)]) {
        v = p;
        break;
      }
  }
  std::vector<int> cycle(path.begin() + seen[size_t(v)], path.end());
  std::reverse(cycle.begin(), cycle.end());
  std::string s;
  for (int c : cycle) s += l.layers[size_t(c)]->name + " -> ";
  return s + l.layers[size_t(cycle.front())]->name;
}

// Kahn's algorithm, taking the lowest listed index first: a list that is already in order keeps it.
std::vector<int> ExecutionOrder(const Listed& l) {
  const size_t n = l.layers.size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (size_t i = 0; i < n; ++i)
    for (int p : l.inputs[i])
      if (p >= 0) ++pending[i], consumers[size_t(p)].push_back(int(i));
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(int(i));
  std::vector<int> order;
  std::vector<char> placed(n, 0);
  while (!ready.empty()) {
    const int v = ready.top();
    ready.pop();
    order.push_back(v);
    placed[size_t(v)] = 1;
    for (int c : consumers[size_t(v)])
      if (--pending[size_t(c)] == 0) ready.push(c);
  }
  if (order.size() != n) {
    const std::string cycle = FindCycle(l, placed);
    throw UsageError("layer '" + cycle.substr(0, cycle.find(" -> ")) + "': its inputs form a cycle (" + cycle + ")");
  }
  for (size_t i = 0; i + 1 < n; ++i)
    if (consumers[i].empty())
      throw UsageError(Where(*l.layers[i]) + ": its output is not read by any layer (the model's output is the " +
                       "last listed layer, '" + l.layers.back()->name + "')");
  if (!consumers[n - 1].empty())
    throw UsageError(Where(*l.layers[n - 1]) + ": the last listed layer is the model's output, but layer '" +
                     l.layers[size_t(consumers[n - 1][0])]->name + "' reads it");
  return order;
}

}  // namespace

LayerGraph MakeLayerGraph(const json& layers) {
  Listed l = MakeListed(layers);
  const std::vector<int> order = ExecutionOrder(l);
  std::vector<int> position(order.size());
  for (size_t k = 0; k < order.size(); ++k) position[size_t(order[k])] = int(k);
  LayerGraph g;
  for (int v : order) {
    std::vector<int> in = l.inputs[size_t(v)];
    for (int& p : in)
      if (p >= 0) p = position[size_t(p)];
    g.layers.push_back(std::move(l.layers[size_t(v)]));
    g.inputs.push_back(std::move(in));
  }
  return g;
}

json InputsJson(const std::vector<std::unique_ptr<Layer>>& layers, const std::vector<std::vector<int>>& inputs,
                size_t i) {
  const std::vector<int>& in = inputs[i];
  if (in.size() == 1 && in[0] == int(i) - 1) return nullptr;
  json names = json::array();
  for (int p : in) names.push_back(p < 0 ? std::string(kInputName) : layers[size_t(p)]->name);
  return names;
}

}  // namespace kws
