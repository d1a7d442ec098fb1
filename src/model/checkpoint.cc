#include "model/checkpoint.h"

#include <algorithm>
#include <cstring>

#include "data/dataset.h"
#include "features/options_io.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws {

using json = nlohmann::json;

namespace {

void PutU32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(char((v >> (8 * i)) & 0xFF));
}
uint64_t GetLE(const std::string& s, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(s[pos + i])) << (8 * i);
  return v;
}

std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(char(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

void PutFloats(std::string& s, const std::vector<float>& v) {
  for (float f : v) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    PutU32(s, u);
  }
}

}  // namespace

const NamedTensor* Checkpoint::Find(const std::string& name) const {
  for (auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

Checkpoint CaptureModel(Model& model) {
  Checkpoint c;
  c.input = model.input_shape();
  c.layers = model.LayersConfig();
  for (Param* p : model.Params()) {
    c.tensors.push_back({p->name, p->dims, p->value});
    if (!p->mask.empty()) {
      NamedTensor m{p->name + ":mask", p->dims, std::vector<float>(p->mask.begin(), p->mask.end())};
      c.tensors.push_back(std::move(m));
    }
  }
  for (Param* p : model.Buffers()) c.tensors.push_back({p->name, p->dims, p->value});
  return c;
}

std::vector<int> OutputMapOf(const std::vector<std::string>& labels, const std::vector<std::string>& classes) {
  if (classes.empty()) return {};
  if (classes.size() < labels.size() || !std::equal(labels.begin(), labels.end(), classes.begin()))
    throw UsageError("classes must start with the labels");
  const auto unknown = std::find(labels.begin(), labels.end(), kUnknownLabel);
  if (unknown == labels.end()) throw UsageError("word classes need an _unknown_ label");
  std::vector<int> map(classes.size(), int(unknown - labels.begin()));
  for (size_t c = 0; c < labels.size(); ++c) map[c] = int(c);
  return map;
}

Model ModelFromCheckpoint(const Checkpoint& c, const std::string& what) {
  Model m;
  try {
    m = Model::Build(c.layers, c.input, int(c.classes.empty() ? c.labels.size() : c.classes.size()), 0);
    m.SetOutputMap(OutputMapOf(c.labels, c.classes));
  } catch (const Error& e) {
    throw BadInput(what + ": cannot rebuild the model (" + e.what() + ")");
  }
  auto load = [&](Param* p) {
    const NamedTensor* t = c.Find(p->name);
    if (!t) throw BadInput(what + ": tensor '" + p->name + "' missing");
    if (t->dims != p->dims || t->data.size() != p->value.size())
      throw BadInput(what + ": tensor '" + p->name + "' has the wrong shape");
    p->value = t->data;
    if (const NamedTensor* mk = c.Find(p->name + ":mask")) {
      if (mk->data.size() != p->value.size()) throw BadInput(what + ": mask of '" + p->name + "' has the wrong size");
      p->mask.assign(mk->data.size(), 0);
      for (size_t i = 0; i < mk->data.size(); ++i) p->mask[i] = mk->data[i] != 0.0f;
    }
  };
  for (Param* p : m.Params()) load(p);
  for (Param* p : m.Buffers()) load(p);
  return m;
}

std::string SerializeCheckpoint(const Checkpoint& c) {
  json h;
  h["format"] = "kws-checkpoint";
  h["config"] = c.config;
  h["labels"] = c.labels;
  if (!c.classes.empty()) h["classes"] = c.classes;
  h["features"] = FeatureOptionsToJsonObject(c.features);
  h["input_shape"] = {c.input.h, c.input.w, c.input.c};
  h["layers"] = c.layers;
  h["state"] = c.state;
  json tensors = json::array();
  size_t offset = 0;
  for (auto& t : c.tensors) {
    tensors.push_back({{"name", t.name}, {"dims", t.dims}, {"offset", offset}, {"count", t.data.size()}});
    offset += t.data.size();
  }
  h["tensors"] = tensors;
  const std::string header = h.dump();
  std::string out(kCheckpointMagic, 8);
  PutU32(out, kCheckpointVersion);
  PutU64(out, header.size());
  out += header;
  while (out.size() % 64) out.push_back('\0');
  out.reserve(out.size() + offset * 4 + 32);
  for (auto& t : c.tensors) PutFloats(out, t.data);
  out += HexToBytes(Sha256Hex(out));
  return out;
}

namespace {
// Integers of a header checked before conversion (nlohmann turns 1e20 into an int by a plain cast).
std::vector<int> Ints(const json& j, const std::string& what) {
  if (!j.is_array()) throw BadInput(what + ": not a list of integers");
  std::vector<int> v;
  for (const json& x : j) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > (int64_t(1) << 30))
      throw BadInput(what + ": not a list of sizes");
    v.push_back(int(x.get<int64_t>()));
  }
  return v;
}
size_t Count(const json& j, const std::string& what) {
  if (!j.is_number_unsigned()) throw BadInput(what + ": not a count");
  return size_t(j.get<uint64_t>());
}
}  // namespace

Checkpoint ParseCheckpoint(const std::string& b, const std::string& what) {
  if (b.size() < 8 + 4 + 8 + 32 || std::memcmp(b.data(), kCheckpointMagic, 8) != 0)
    throw BadInput(what + ": not a kws checkpoint (bad magic)");
  const uint32_t version = uint32_t(GetLE(b, 8, 4));
  if (version != kCheckpointVersion)
    throw BadInput(what + ": checkpoint version " + std::to_string(version) + " is not supported (this kws reads " +
                   std::to_string(kCheckpointVersion) + ")");
  const std::string body(b.data(), b.size() - 32);
  if (HexToBytes(Sha256Hex(body)) != b.substr(b.size() - 32))
    throw BadInput(what + ": checksum mismatch (file corrupted or truncated)");
  const uint64_t hlen = GetLE(b, 12, 8);
  if (hlen > body.size() - 20) throw BadInput(what + ": header length out of range");
  json h;
  try {
    h = json::parse(body.substr(20, hlen));
  } catch (const std::exception& e) {
    throw BadInput(what + ": header is not valid JSON (" + e.what() + ")");
  }
  size_t data_start = 20 + hlen;
  while (data_start % 64) ++data_start;
  Checkpoint c;
  try {
    c.config = h.at("config");
    c.labels = h.at("labels").get<std::vector<std::string>>();
    c.classes = h.value("classes", std::vector<std::string>());
    c.features = FeatureOptionsFromJsonObject(h.at("features"), FeatureOptions{}, what + ": features");
    const std::vector<int> is = Ints(h.at("input_shape"), what + ": input_shape");
    if (is.size() != 3) throw BadInput(what + ": input_shape must have 3 values");
    c.input = {is[0], is[1], is[2]};
    c.layers = h.at("layers");
    c.state = h.value("state", json::object());
    for (auto& t : h.at("tensors")) {
      NamedTensor nt;
      nt.name = t.at("name").get<std::string>();
      nt.dims = Ints(t.at("dims"), what + ": tensor '" + nt.name + "' dims");
      const size_t off = Count(t.at("offset"), what + ": tensor '" + nt.name + "' offset");
      const size_t count = Count(t.at("count"), what + ": tensor '" + nt.name + "' count");
      const size_t floats = (body.size() - std::min(body.size(), data_start)) / 4;  // in the file after the header
      if (off > floats || count > floats - off)
        throw BadInput(what + ": tensor '" + nt.name + "' lies outside the file");
      nt.data.resize(count);
      if (count) std::memcpy(nt.data.data(), body.data() + data_start + off * 4, count * 4);
      c.tensors.push_back(std::move(nt));
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw BadInput(what + ": malformed header (" + e.what() + ")");
  }
  return c;
}

void SaveCheckpoint(const std::string& path, const Checkpoint& c) { AtomicWriteFile(path, SerializeCheckpoint(c)); }

Checkpoint LoadCheckpoint(const std::string& path) {
  // The magic first (8 bytes), then the size limit, then the whole file.
  const std::string bytes = ReadFileChecked(path, Limits().model_bytes, "checkpoint", 8, [&](const std::string& head) {
    if (head.size() < 8 || std::memcmp(head.data(), kCheckpointMagic, 8) != 0)
      throw BadInput(path + ": not a kws checkpoint (bad magic)");
  });
  return ParseCheckpoint(bytes, path);
}

}  // namespace kws
