#include "model/blocks.h"

#include <map>
#include <set>

#include "util/error.h"

namespace kws {

namespace {

using json = nlohmann::json;

struct Block {
  std::string name;
  json params = json::object();
  json layers = json::array();
};

std::map<std::string, Block> ReadBlocks(const json& blocks) {
  std::map<std::string, Block> out;
  if (blocks.is_null()) return out;
  if (!blocks.is_array()) throw UsageError("model.blocks: must be an array of tables ([[model.blocks]])");
  for (size_t i = 0; i < blocks.size(); ++i) {
    const json& b = blocks[i];
    const std::string where = "model.blocks." + std::to_string(i);
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string())
      throw UsageError(where + ": a block needs a string \"name\"");
    Block blk;
    blk.name = b["name"].get<std::string>();
    const std::string bw = "block '" + blk.name + "'";
    for (auto& [k, v] : b.items())
      if (k != "name" && k != "params" && k != "layers") throw UsageError(bw + ": unknown field '" + k + "'");
    if (b.contains("params")) {
      if (!b["params"].is_object()) throw UsageError(bw + ": 'params' must be a table of defaults");
      blk.params = b["params"];
    }
    if (!b.contains("layers") || !b["layers"].is_array() || b["layers"].empty())
      throw UsageError(bw + ": no layers ([[model.blocks.layers]] tables)");
    blk.layers = b["layers"];
    for (const json& l : blk.layers)
      if (!l.is_object() || !l.contains("type") || !l["type"].is_string())
        throw UsageError(bw + ": every layer must be a table with a \"type\"");
      else if (l["type"] == "block")
        throw UsageError(bw + ": blocks cannot contain blocks");
    if (!out.emplace(blk.name, blk).second) throw UsageError(bw + ": defined twice");
  }
  return out;
}

// Replaces every "$param" string in v.
json Substitute(const json& v, const json& params, const std::string& where) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.empty() || s[0] != '$') return v;
    const std::string p = s.substr(1);
    if (!params.contains(p)) throw UsageError(where + ": unknown parameter '" + s + "'");
    return params[p];
  }
  if (v.is_array() || v.is_object()) {
    json out = v;
    for (auto& [k, e] : v.items()) (v.is_array() ? out[std::stoul(k)] : out[k]) = Substitute(e, params, where);
    return out;
  }
  return v;
}

// The parameters of one instance: the block's defaults overridden by the instance's own fields.
json InstanceParams(const json& entry, const Block& blk, const std::string& where) {
  json params = blk.params;
  static const std::set<std::string> reserved = {"type", "block", "name", "repeat", "inputs"};
  for (auto& [k, v] : entry.items()) {
    if (reserved.count(k)) continue;
    if (!params.contains(k))
      throw UsageError(where + ": block '" + blk.name + "' has no parameter '" + k + "' (its parameters: " +
                       [&] {
                         std::string l;
                         for (auto& [pk, pv] : blk.params.items()) l += (l.empty() ? "" : ", ") + pk;
                         return l.empty() ? std::string("none") : l;
                       }() + ")");
    params[k] = v;
  }
  return params;
}

// Appends one repeat of the block; `input` = the name it reads (empty = the layer listed before it).
// Returns the name of its last layer.
std::string EmitRepeat(const Block& blk, const json& params, const std::string& prefix, const std::string& input,
                       json& out) {
  std::map<std::string, std::string> local;  // block layer name -> expanded name
  std::map<std::string, int> counts;
  std::vector<std::string> names;
  for (const json& l : blk.layers) {
    std::string n = l.contains("name") && l["name"].is_string() ? l["name"].get<std::string>() : "";
    if (n.empty()) n = l["type"].get<std::string>() + "_" + std::to_string(++counts[l["type"].get<std::string>()]);
    local[n] = prefix + n;
    names.push_back(n);
  }
  for (size_t j = 0; j < blk.layers.size(); ++j) {
    const std::string where = "block '" + blk.name + "', layer '" + names[j] + "'";
    json l = Substitute(blk.layers[j], params, where);
    l["name"] = prefix + names[j];
    if (l.contains("inputs")) {
      json in = l["inputs"].is_array() ? l["inputs"] : json::array({l["inputs"]});
      for (json& e : in) {
        if (!e.is_string()) throw UsageError(where + ": 'inputs' must be a layer name or a list of layer names");
        const std::string s = e.get<std::string>();
        if (s == "input") {
          e = input;
        } else if (local.count(s)) {
          e = local[s];
        } else {
          throw UsageError(where + ": input '" + s + "' is not a layer of the block (nor 'input')");
        }
      }
      l["inputs"] = in;
    } else if (j == 0) {
      l["inputs"] = json::array({input});
    }
    out.push_back(std::move(l));
  }
  return prefix + names.back();
}

// Names the unnamed top-level layers as the model would ("<type>_<k>", k counting unnamed layers of
// that type in listed order), so that block inputs can name the layer before an instance.
json NameLayers(const json& layers) {
  json out = layers;
  std::map<std::string, int> counts;
  for (json& e : out)
    if (e.is_object() && e.contains("type") && e["type"].is_string() && e["type"] != "block" && !e.contains("name"))
      e["name"] = e["type"].get<std::string>() + "_" + std::to_string(++counts[e["type"].get<std::string>()]);
  return out;
}

}  // namespace

json ExpandBlocks(const json& layers_in, const json& blocks) {
  const std::map<std::string, Block> defs = ReadBlocks(blocks);
  if (!layers_in.is_array()) return layers_in;
  bool any = false;
  for (const json& e : layers_in) any = any || (e.is_object() && e.value("type", "") == "block");
  if (!any) return layers_in;  // nothing to expand: the list as written
  const json layers = NameLayers(layers_in);
  json out = json::array();
  std::map<std::string, std::string> instance_output;
  std::map<std::string, int> instances;
  for (size_t i = 0; i < layers.size(); ++i) {
    json e = layers[i];
    if (!e.is_object() || e.value("type", "") != "block") {
      if (e.is_object() && e.contains("inputs")) {  // a block instance as an input: its output
        json in = e["inputs"].is_array() ? e["inputs"] : json::array({e["inputs"]});
        for (json& n : in)
          if (n.is_string() && instance_output.count(n.get<std::string>())) n = instance_output[n.get<std::string>()];
        e["inputs"] = e["inputs"].is_array() ? in : in[0];
      }
      out.push_back(std::move(e));
      continue;
    }
    const std::string bname = e.value("block", "");
    std::string name = e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>() : "";
    if (name.empty()) name = bname + "_" + std::to_string(++instances[bname]);
    const std::string where = "layer '" + name + "'";
    auto it = defs.find(bname);
    if (it == defs.end()) throw UsageError(where + ": no block named '" + bname + "' in [[model.blocks]]");
    const json& rep = e.contains("repeat") ? e["repeat"] : json(1);
    if (!rep.is_number_integer()) throw UsageError(where + ": 'repeat' must be an integer");
    if (rep.get<long long>() < 1 || rep.get<long long>() > 1000)
      throw UsageError(where + ": block '" + bname + "' repeats " + std::to_string(rep.get<long long>()) +
                       " times (repeat must be in [1, 1000])");
    const json params = InstanceParams(e, it->second, where);
    // The first repeat reads the instance's input, else the layer listed before it (else the model input).
    std::string input = out.empty() ? "input" : out.back()["name"].get<std::string>();
    if (e.contains("inputs")) {
      json in = e["inputs"];
      if (in.is_array() && in.size() == 1) in = in[0];
      if (!in.is_string()) throw UsageError(where + ": a block instance takes one input (a layer name)");
      input = in.get<std::string>();
      if (instance_output.count(input)) input = instance_output[input];
    }
    const int n = int(rep.get<long long>());
    for (int k = 1; k <= n; ++k)
      input = EmitRepeat(it->second, params, n > 1 ? name + "_" + std::to_string(k) + "/" : name + "/", input, out);
    instance_output[name] = input;
  }
  return out;
}

}  // namespace kws
