// gofer::url — URLs as Go's net/url reads and writes them (RFC 3986).
//
//   auto [u, err] = gofer::url::parse("https://user@example.com:8443/a%2Fb?q=1&q=2#top");
//   if (err) return err.message();      // parse "…": invalid port ":x" after host
//   u.hostname();                        // "example.com"
//   u.port();                            // "8443"
//   u.path;                              // "/a/b" (decoded); u.escaped_path() is "/a%2Fb"
//   u.query().values("q");               // {"1", "2"}: every value of a key, in order
//   auto [next, rerr] = u.parse_reference("../c?x");  // RFC 3986 §5.2
//
// A pure layer: no I/O, no runtime, no global state; every function may be
// called from any thread. Unlike the HTTP parser it allocates (a URL owns
// its strings), since a URL outlives the buffer it was read from.
//
// Errors are values. A URL that cannot be parsed yields an Error that says
// which operation, on which input, and why (Go's *url.Error: "parse
// \"http://[::1\": missing ']' in host"); `code` tells the reason without
// parsing text.
//
// The rules are Go's (checked against Go by a differential test), including
// its deliberate departures from RFC 3986: the path is kept decoded, with
// raw_path remembering a non-default encoding; "scheme:rest" without a slash
// is opaque; ';' no longer separates query pairs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gofer::url {

// Why parsing or unescaping failed.
enum class errc : std::uint8_t {
  none = 0,
  invalid_escape,          // '%' not followed by two hex digits, or not allowed there
  invalid_host,            // a character not allowed in a host name
  invalid_port,            // the text after the host's last ':' is not digits
  missing_bracket,         // "[" opens an IP literal that no "]" closes
  missing_scheme,          // ":" with nothing before it
  control_character,       // an ASCII control character (< 0x20, 0x7f) anywhere
  invalid_userinfo,        // a character not allowed in user:password
  empty_url,               // parse_request_uri("")
  invalid_request_uri,     // parse_request_uri of something neither absolute nor "/…"
  colon_in_first_segment,  // a relative path whose first segment has ':' ("a:b" is a scheme)
  semicolon_in_query,      // parse_query: ';' is not a separator (Go 1.17)
};

// Go's *url.Error (op, url, err) and the error it wraps, as one value.
// Empty (false) when there is no error.
struct Error {
  std::string op;   // "parse" for parse/parse_request_uri; empty for the escape functions
  std::string url;  // the input the operation was given
  errc code = errc::none;
  std::string detail;  // the offending text: "%zz", " ", ":x" (empty when the code says it all)

  explicit operator bool() const noexcept { return code != errc::none; }
  // What went wrong, as Go words it: `invalid URL escape "%zz"`.
  std::string reason() const;
  // reason() prefixed by the operation and input, as Go's url.Error prints:
  // `parse "http://a b": invalid character " " in host name`.
  std::string message() const;
};

// A value and an error, returned together: auto [u, err] = url::parse(s).
template <class T>
struct Result {
  T value{};
  Error err{};

  explicit operator bool() const noexcept { return !err; }
};

// Go's url.Values: keys to lists of values, kept sorted by key (so encode()
// needs no sort) and, under each key, in the order they were added. Keys
// are case-sensitive, unlike header names.
class Values {
 public:
  using Map = std::map<std::string, std::vector<std::string>, std::less<>>;

  // The first value of `key`, or "" when it has none.
  std::string_view get(std::string_view key) const;
  // Every value of `key`, in order; empty when it has none.
  const std::vector<std::string>& values(std::string_view key) const;
  // Replaces the values of `key` by `value`.
  void set(std::string_view key, std::string_view value);
  // Appends `value` to the values of `key`.
  void add(std::string_view key, std::string_view value);
  void del(std::string_view key);
  // Whether `key` was set or added (possibly with an empty value).
  bool has(std::string_view key) const;
  // "a=1&a=2&b=x+y": URL-encoded (query_escape), sorted by key, each key's
  // values in order, as Go's Encode.
  std::string encode() const;

  bool empty() const noexcept { return map_.empty(); }
  std::size_t size() const noexcept { return map_.size(); }  // number of keys
  Map::const_iterator begin() const noexcept { return map_.begin(); }
  Map::const_iterator end() const noexcept { return map_.end(); }

  friend bool operator==(const Values&, const Values&) = default;

 private:
  Map map_;
};

// "key=value&key2=value2" (application/x-www-form-urlencoded, as in a URL
// query) into Values. A pair without '=' is a key with an empty value;
// empty pairs are skipped. As in Go, value holds every valid pair even when
// err reports a bad one: a ';' (which Go 1.17 stopped accepting as a
// separator) if any pair has one, else the first bad escape.
Result<Values> parse_query(std::string_view query);

// user[:password] of an authority. The password is absent or present (and
// then possibly empty): "u@" and "u:@" differ.
struct Userinfo {
  std::string username;
  std::optional<std::string> password;

  // "user:pass", each part escaped as RFC 3986 §3.2.1 needs.
  std::string to_string() const;
  friend bool operator==(const Userinfo&, const Userinfo&) = default;
};

// A parsed URL (a URI reference, RFC 3986 §4.1):
//
//   [scheme:][//[userinfo@]host][/]path[?query][#fragment]
//   scheme:opaque[?query][#fragment]      (no '/' after the scheme)
//
// path and fragment are decoded; raw_path and raw_fragment keep the form
// they were written in only when it differs from the default encoding (so
// "/a%2Fb" survives a round trip). raw_query stays encoded: query() decodes
// it into Values.
struct URL {
  std::string scheme;  // lower case: "http"
  std::string opaque;  // encoded opaque data ("mailto:x@y" → "x@y")
  std::optional<Userinfo> user;
  std::string host;          // host or host:port; an IPv6 literal keeps its brackets: "[::1]:80"
  std::string path;          // decoded: "/a b"
  std::string raw_path;      // encoded hint, only when the default encoding differs
  bool omit_host = false;    // "scheme:/path": no "//" for an empty host
  bool force_query = false;  // a '?' with an empty query: "http://h/?"
  std::string raw_query;     // encoded, without '?'
  std::string fragment;      // decoded, without '#'
  std::string raw_fragment;  // encoded hint, only when the default encoding differs

  // The URL as a string; parsing it gives this URL back — except that a
  // path starting with "//" and no authority prints as "/.//…" (RFC 3986
  // §3.3; Go prints "//…", which reads back as a host), and that raw hints
  // that are not valid encodings are replaced by the default encoding.
  std::string to_string() const;
  // to_string() with the password, if any, replaced by "xxxxx".
  std::string redacted() const;
  // raw_path when it is a valid encoding of path, else path escaped.
  std::string escaped_path() const;
  // raw_fragment when it is a valid encoding of fragment, else fragment escaped.
  std::string escaped_fragment() const;
  // host without the port, and without the brackets of an IPv6 literal:
  // "[::1]:80" → "::1", "[fe80::1%en0]" → "fe80::1%en0".
  std::string_view hostname() const;
  // The port after the host's last ':' when it is all digits, else "".
  std::string_view port() const;
  // Whether the URL has a scheme.
  bool is_abs() const noexcept { return !scheme.empty(); }
  // The values of raw_query; malformed pairs are dropped (use parse_query
  // to see the error).
  Values query() const;
  // "path?query" (or "opaque?query") as sent on an HTTP request-line; "/" for
  // an empty path.
  std::string request_uri() const;
  // The target of `ref` resolved against this URL as base (RFC 3986 §5.2,
  // with §5.2.4's removal of dot segments). An absolute ref is returned with
  // its dot segments removed.
  URL resolve_reference(const URL& ref) const;
  // parse(ref), then resolve_reference.
  Result<URL> parse_reference(std::string_view ref) const;
  // This URL with `elements` appended to its path, '/'-separated, then
  // cleaned of "." and ".." and of repeated '/' (Go's JoinPath).
  URL join_path(const std::vector<std::string_view>& elements) const;

  friend bool operator==(const URL&, const URL&) = default;
};

// A URL or a relative reference, with an optional #fragment.
Result<URL> parse(std::string_view raw);
// A request-target as received by a server: an absolute URI or an absolute
// path ("*" too); no fragment is split off, and relative references are
// refused.
Result<URL> parse_request_uri(std::string_view raw);

// For a query component: every byte but unreserved ones (ALPHA DIGIT - . _ ~)
// as %XX, and ' ' as '+'.
std::string query_escape(std::string_view s);
// %XX decoded and '+' as ' '; a '%' not followed by two hex digits is an error.
Result<std::string> query_unescape(std::string_view s);
// For one path segment: like query_escape but ' ' is %20 and the characters a
// segment may hold (":@&=+$") stay.
std::string path_escape(std::string_view s);
// %XX decoded; '+' stays '+'.
Result<std::string> path_unescape(std::string_view s);

}  // namespace gofer::url
