#include "search/redis.h"

#include <hiredis/hiredis.h>

#include <cmath>
#include <cstdlib>

#include "util/error.h"

namespace kws::search {

RedisUrl ParseRedisUrl(const std::string& url) {
  const std::string scheme = "redis://";
  auto bad = [&](const std::string& why) {
    return UsageError("--broker " + url + ": " + why + " (expected redis://HOST:PORT, e.g. redis://127.0.0.1:6379)");
  };
  if (url.rfind(scheme, 0) != 0) throw bad("not a redis:// address");
  std::string rest = url.substr(scheme.size());
  RedisUrl u;
  if (const size_t at = rest.rfind('@'); at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    if (!auth.empty() && auth[0] == ':') auth = auth.substr(1);
    u.password = auth;
    rest = rest.substr(at + 1);
  }
  if (const size_t slash = rest.find('/'); slash != std::string::npos) {
    const std::string db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      char* end = nullptr;
      const long v = std::strtol(db.c_str(), &end, 10);
      if (*end || v < 0 || v > 1000000) throw bad("database '" + db + "' is not a number");
      u.db = int(v);
    }
  }
  if (const size_t colon = rest.rfind(':'); colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end || p < 1 || p > 65535) throw bad("port '" + port + "' is not 1..65535");
    u.port = int(p);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) throw bad("no host");
  u.host = rest;
  u.text = scheme + u.host + ":" + std::to_string(u.port) + (u.db ? "/" + std::to_string(u.db) : "");
  return u;
}

namespace {

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::kNil;
  }
  return out;
}

timeval Tv(double s) {
  timeval tv;
  tv.tv_sec = long(s);
  tv.tv_usec = long((s - double(tv.tv_sec)) * 1e6);
  return tv;
}

}  // namespace

Redis Redis::Connect(const RedisUrl& url, double timeout_s) {
  Redis r;
  r.url_ = url;
  r.ctx_ = redisConnectWithTimeout(url.host.c_str(), url.port, Tv(timeout_s));
  if (!r.ctx_ || r.ctx_->err) {
    const std::string why = r.ctx_ ? r.ctx_->errstr : "out of memory";
    throw BadInput(url.text + ": cannot reach the broker (" + why + ")");
  }
  redisSetTimeout(r.ctx_, Tv(timeout_s));
  if (!url.password.empty()) r.Check({"AUTH", url.password});
  if (url.db) r.Check({"SELECT", std::to_string(url.db)});
  const RedisReply pong = r.Command({"PING"});
  if (pong.type == RedisReply::kError) throw BadInput(url.text + ": the broker refused PING (" + pong.str + ")");
  return r;
}

Redis::Redis(Redis&& o) noexcept : url_(std::move(o.url_)), ctx_(o.ctx_) { o.ctx_ = nullptr; }
Redis& Redis::operator=(Redis&& o) noexcept {
  if (this != &o) {
    if (ctx_) redisFree(ctx_);
    url_ = std::move(o.url_);
    ctx_ = o.ctx_;
    o.ctx_ = nullptr;
  }
  return *this;
}
Redis::~Redis() {
  if (ctx_) redisFree(ctx_);
}

RedisReply Redis::Command(const std::vector<std::string>& args) {
  if (!ctx_) throw BadInput(url_.text + ": not connected");
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(ctx_, int(argv.size()), argv.data(), lens.data()));
  if (!reply) {
    const std::string why = ctx_->errstr[0] ? ctx_->errstr : "connection lost";
    redisFree(ctx_);
    ctx_ = nullptr;
    throw BadInput(url_.text + ": " + (args.empty() ? "" : args[0] + ": ") + "the broker connection failed (" + why + ")");
  }
  RedisReply out = Convert(reply);
  freeReplyObject(reply);
  return out;
}

RedisReply Redis::Check(const std::vector<std::string>& args) {
  RedisReply r = Command(args);
  if (r.type == RedisReply::kError) throw BadInput(url_.text + ": " + args[0] + ": " + r.str);
  return r;
}

long long Redis::NowMs() {
  const RedisReply t = Check({"TIME"});
  if (t.elements.size() != 2) throw BadInput(url_.text + ": TIME: unexpected reply");
  return std::atoll(t.elements[0].str.c_str()) * 1000 + std::atoll(t.elements[1].str.c_str()) / 1000;
}

}  // namespace kws::search
