// gofer::url alone (the gofer::url target, no runtime): parses a URL and
// prints its host. Exit code 0 if it is the expected one.
#include <cstdio>

#include "gofer/url.h"

int main() {
  auto [u, err] = gofer::url::parse("https://user@example.com:8443/a%2Fb?q=1");
  if (err) {
    std::printf("consumer_url: %s\n", err.message().c_str());
    return 1;
  }
  std::printf("consumer_url: host %s, port %s\n", std::string(u.hostname()).c_str(),
              std::string(u.port()).c_str());
  return u.hostname() == "example.com" && u.port() == "8443" ? 0 : 1;
}
