// A small synchronous Redis client over Debian's hiredis: one connection, binary-safe commands.
//
//   kws::search::RedisUrl u = kws::search::ParseRedisUrl("redis://127.0.0.1:6379");
//   kws::search::Redis r = kws::search::Redis::Connect(u);      // BadInput naming the URL if unreachable
//   kws::search::RedisReply x = r.Command({"XADD", "q:jobs", "*", "job", text});
//
// Transport failures (refused, timed out, connection lost) are BadInput naming the URL; an error
// reply of the server is RedisReply::kError from Command and BadInput from Check.
#pragma once
#include <memory>
#include <string>
#include <vector>

struct redisContext;

namespace kws::search {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  int db = 0;
  std::string text;  // as given (without the password)
};

// redis://[:PASSWORD@]HOST[:PORT][/DB]; UsageError naming --broker otherwise.
RedisUrl ParseRedisUrl(const std::string& url);

struct RedisReply {
  enum Type { kNil, kString, kInteger, kArray, kStatus, kError } type = kNil;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<RedisReply> elements;
  bool is_nil() const { return type == kNil; }
};

class Redis {
 public:
  // timeout_s: connecting and every command (blocking commands add their own block time).
  static Redis Connect(const RedisUrl& url, double timeout_s = 5);
  Redis(Redis&&) noexcept;
  Redis& operator=(Redis&&) noexcept;
  ~Redis();

  RedisReply Command(const std::vector<std::string>& args);
  // As Command, but an error reply is BadInput("redis://...: CMD: message").
  RedisReply Check(const std::vector<std::string>& args);
  // The server's clock in milliseconds (TIME): one clock for every machine of a search.
  long long NowMs();
  const RedisUrl& url() const { return url_; }

 private:
  Redis() = default;
  RedisUrl url_;
  redisContext* ctx_ = nullptr;
};

}  // namespace kws::search
