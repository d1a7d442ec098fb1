#include "search/queue.h"

#include <cstdlib>

#include "util/error.h"

namespace kws::search {

using json = nlohmann::json;

namespace {

constexpr const char* kGroup = "workers";

// Field/value pairs of a stream entry.
std::map<std::string, std::string> Fields(const RedisReply& entry) {
  std::map<std::string, std::string> f;
  if (entry.elements.size() < 2) return f;
  const auto& kv = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < kv.size(); i += 2) f[kv[i].str] = kv[i + 1].str;
  return f;
}

// No group (no search started yet), or the stream deleted under a blocked read (the search finished).
bool IsNoGroup(const RedisReply& r) {
  return r.type == RedisReply::kError && (r.str.rfind("NOGROUP", 0) == 0 || r.str.rfind("UNBLOCKED", 0) == 0);
}

}  // namespace

QueueMeta Queue::Meta() {
  const RedisReply h = r_.Check({"HGETALL", Key("meta")});
  std::map<std::string, std::string> f;
  for (size_t i = 0; i + 1 < h.elements.size(); i += 2) f[h.elements[i].str] = h.elements[i + 1].str;
  QueueMeta m;
  m.search_id = f["search_id"];
  m.data_digest = f["data_digest"];
  m.state = f["state"];
  m.out = f["out"];
  m.lease_ms = f.count("lease_ms") ? std::atoll(f["lease_ms"].c_str()) : 60000;
  m.heartbeat = std::atoll(f["heartbeat"].c_str());
  m.data_clips = std::atoi(f["data_clips"].c_str());
  return m;
}

void Queue::Reset() {
  r_.Check({"DEL", Key("meta"), Key("jobs"), Key("results"), Key("submitted"), Key("workers")});
}

void Queue::Start(const QueueMeta& m) {
  r_.Check({"HSET", Key("meta"), "search_id", m.search_id, "data_digest", m.data_digest, "data_clips",
            std::to_string(m.data_clips), "lease_ms", std::to_string(m.lease_ms), "state", "running", "out", m.out,
            "heartbeat", std::to_string(r_.NowMs())});
  const RedisReply g = r_.Command({"XGROUP", "CREATE", Key("jobs"), kGroup, "0", "MKSTREAM"});
  if (g.type == RedisReply::kError && g.str.rfind("BUSYGROUP", 0) != 0)
    throw BadInput(r_.url().text + ": XGROUP CREATE: " + g.str);
}

void Queue::Beat() { r_.Check({"HSET", Key("meta"), "heartbeat", std::to_string(r_.NowMs())}); }

std::map<std::string, std::string> Queue::Submitted() {
  const RedisReply h = r_.Check({"HGETALL", Key("submitted")});
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < h.elements.size(); i += 2) out[h.elements[i].str] = h.elements[i + 1].str;
  return out;
}

void Queue::Submit(const Job& j) {
  // Added first, recorded second: a coordinator killed in between adds the job again on restart
  // (run twice, counted once) rather than never.
  const RedisReply id = r_.Check({"XADD", Key("jobs"), "*", "job", j.ToJson().dump()});
  r_.Check({"HSET", Key("submitted"), j.Key(), id.str});
}

std::vector<Queue::Message> Queue::ReadResults(std::string& last_id, int block_ms) {
  const RedisReply r = r_.Check({"XREAD", "COUNT", "16", "BLOCK", std::to_string(block_ms), "STREAMS",
                                 Key("results"), last_id});
  std::vector<Message> out;
  if (r.is_nil() || r.elements.empty()) return out;
  for (const RedisReply& entry : r.elements[0].elements[1].elements) {
    Message m;
    m.id = entry.elements[0].str;
    last_id = m.id;
    auto f = Fields(entry);
    if (f.count("refused")) {
      m.refused = f["refused"];
      m.worker = f["worker"];
    } else if (f.count("result")) {
      try {
        m.result = TrialResult::FromJson(json::parse(f["result"]));
      } catch (const json::exception& e) {
        throw BadInput(r_.url().text + ": " + Key("results") + " " + m.id + ": malformed result (" + e.what() + ")");
      }
      for (auto& [k, v] : f)
        if (k.rfind("file:", 0) == 0) m.result->files[k.substr(5)] = v;
      m.worker = m.result->worker;
    }
    out.push_back(std::move(m));
  }
  return out;
}

int Queue::LiveWorkers(long long lease_ms) {
  const long long now = r_.NowMs();
  const RedisReply h = r_.Check({"HGETALL", Key("workers")});
  int n = 0;
  for (size_t i = 0; i + 1 < h.elements.size(); i += 2)
    if (now - std::atoll(h.elements[i + 1].str.c_str()) <= lease_ms) ++n;
  return n;
}

void Queue::Finish() {
  r_.Check({"HSET", Key("meta"), "state", "done", "heartbeat", std::to_string(r_.NowMs())});
  r_.Check({"DEL", Key("jobs"), Key("results"), Key("submitted")});
}

std::optional<Queue::Taken> Queue::Take(const std::string& consumer, long long lease_ms, int block_ms) {
  std::optional<RedisReply> entry;
  const RedisReply c = r_.Command({"XAUTOCLAIM", Key("jobs"), kGroup, consumer, std::to_string(lease_ms), "0-0",
                                   "COUNT", "1"});
  if (IsNoGroup(c)) return std::nullopt;
  if (c.type == RedisReply::kError) throw BadInput(r_.url().text + ": XAUTOCLAIM: " + c.str);
  if (c.elements.size() >= 2 && !c.elements[1].elements.empty() && c.elements[1].elements[0].type == RedisReply::kArray)
    entry = c.elements[1].elements[0];
  if (!entry) {
    const RedisReply r = r_.Command({"XREADGROUP", "GROUP", kGroup, consumer, "COUNT", "1", "BLOCK",
                                     std::to_string(block_ms), "STREAMS", Key("jobs"), ">"});
    if (IsNoGroup(r)) return std::nullopt;
    if (r.type == RedisReply::kError) throw BadInput(r_.url().text + ": XREADGROUP: " + r.str);
    if (r.is_nil() || r.elements.empty() || r.elements[0].elements.size() < 2 ||
        r.elements[0].elements[1].elements.empty())
      return std::nullopt;
    entry = r.elements[0].elements[1].elements[0];
  }
  Taken t;
  t.id = entry->elements[0].str;
  auto f = Fields(*entry);
  try {
    t.job = Job::FromJson(json::parse(f["job"]));
  } catch (const json::exception& e) {
    throw BadInput(r_.url().text + ": " + Key("jobs") + " " + t.id + ": malformed job (" + e.what() + ")");
  }
  const RedisReply p = r_.Check({"XPENDING", Key("jobs"), kGroup, t.id, t.id, "1"});
  if (!p.elements.empty() && p.elements[0].elements.size() >= 4) t.deliveries = p.elements[0].elements[3].integer;
  return t;
}

void Queue::Heartbeat(const std::string& consumer, const std::string& id) {
  r_.Command({"XCLAIM", Key("jobs"), kGroup, consumer, "0", id, "JUSTID"});
  Register(consumer);
}

void Queue::Register(const std::string& consumer) {
  r_.Check({"HSET", Key("workers"), consumer, std::to_string(r_.NowMs())});
}

void Queue::Post(const TrialResult& res) {
  std::vector<std::string> args = {"XADD", Key("results"), "*", "result", res.ToJson().dump()};
  for (auto& [name, bytes] : res.files) {
    args.push_back("file:" + name);
    args.push_back(bytes);
  }
  r_.Check(args);
}

void Queue::Ack(const std::string& id) { r_.Command({"XACK", Key("jobs"), kGroup, id}); }

void Queue::Refuse(const std::string& worker, const std::string& why) {
  r_.Command({"XADD", Key("results"), "*", "refused", why, "worker", worker});
}

void Queue::Leave(const std::string& consumer) {
  r_.Command({"HDEL", Key("workers"), consumer});
  r_.Command({"XGROUP", "DELCONSUMER", Key("jobs"), kGroup, consumer});
}

}  // namespace kws::search
