// parse_listen_fds: the LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES protocol of
// systemd's socket activation (sd_listen_fds(3), sd_listen_fds_with_names)
// as gofer serve reads it: variables for another process, or none, mean
// "nothing passed"; malformed values are a one-line error naming the
// variable and its value, so that gofer serve refuses to start (and an
// upgrade fails, leaving the old process serving) instead of guessing.
#include "activation.h"

#include <gtest/gtest.h>

namespace gofer::app {
namespace {

constexpr pid_t kSelf = 4242;

TEST(ListenFds, NothingPassedWithoutTheVariables) {
  ListenFds none = parse_listen_fds(nullptr, nullptr, nullptr, kSelf);
  EXPECT_EQ(none.count, 0);
  EXPECT_EQ(none.error, "");
  // LISTEN_FDS without LISTEN_PID is not for us either (sd_listen_fds).
  EXPECT_EQ(parse_listen_fds(nullptr, "2", nullptr, kSelf).count, 0);
}

TEST(ListenFds, SocketsForAnotherProcessAreNotOurs) {
  // A parent socket-activated by systemd leaves them in its environment;
  // a child it starts must not take fds 3… for sockets.
  ListenFds other = parse_listen_fds("4241", "1", "http", kSelf);
  EXPECT_EQ(other.count, 0);
  EXPECT_EQ(other.error, "");
}

TEST(ListenFds, CountsAndNames) {
  ListenFds one = parse_listen_fds("4242", "1", nullptr, kSelf);
  EXPECT_EQ(one.count, 1);
  EXPECT_EQ(one.names, std::vector<std::string>{"unknown"});  // systemd's default name
  ListenFds two = parse_listen_fds("4242", "2", "http:admin", kSelf);
  EXPECT_EQ(two.count, 2);
  EXPECT_EQ(two.names, (std::vector<std::string>{"http", "admin"}));
  ListenFds zero = parse_listen_fds("4242", "0", nullptr, kSelf);
  EXPECT_EQ(zero.count, 0);
  EXPECT_EQ(zero.error, "");
}

TEST(ListenFds, MalformedValuesAreOneLineErrors) {
  EXPECT_EQ(parse_listen_fds("4242", "abc", nullptr, kSelf).error,
            "LISTEN_FDS=\"abc\": not a number of file descriptors");
  EXPECT_EQ(parse_listen_fds("4242", "", nullptr, kSelf).error,
            "LISTEN_FDS=\"\": not a number of file descriptors");
  EXPECT_EQ(parse_listen_fds("4242", "-1", nullptr, kSelf).error,
            "LISTEN_FDS=\"-1\": not a number of file descriptors");
  EXPECT_EQ(parse_listen_fds("4242", "2x", nullptr, kSelf).error,
            "LISTEN_FDS=\"2x\": not a number of file descriptors");
  EXPECT_EQ(parse_listen_fds("42x", "1", nullptr, kSelf).error,
            "LISTEN_PID=\"42x\": not a process id");
  ListenFds huge = parse_listen_fds("4242", "99999999999", nullptr, kSelf);
  EXPECT_TRUE(huge.error.starts_with("LISTEN_FDS=99999999999: more file descriptors than"))
      << huge.error;
  ListenFds names = parse_listen_fds("4242", "2", "http", kSelf);
  EXPECT_EQ(names.error, "LISTEN_FDNAMES=\"http\" names 1 sockets, but LISTEN_FDS=2");
  EXPECT_EQ(names.count, 0);
  for (const ListenFds& bad : {huge, names}) EXPECT_EQ(bad.error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace gofer::app
