#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include "common/fs.h"
#include "runtime/linux/log_reader.h"
#include "runtime/linux/log_rotation.h"

namespace zl {
namespace {

using Stream = LogEntry::Stream;

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339_nano("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_nano("1970-01-01T00:00:01.5Z"), 1500000000);
  EXPECT_EQ(parse_rfc3339_nano("1970-01-01T01:00:00.000000001+01:00"), 1);
  EXPECT_EQ(parse_rfc3339_nano("2026-11-22T23:51:31.550757827+00:00"), 1795391491550757827);
  EXPECT_EQ(parse_rfc3339_nano("2026-11-22T18:51:31.550757827-05:00"), 1795391491550757827);
  EXPECT_EQ(parse_rfc3339_nano("2000-02-29T12:00:00Z"), 951825600LL * 1000000000);
  EXPECT_FALSE(parse_rfc3339_nano("2026-11-22 23:51:31Z"));
  EXPECT_FALSE(parse_rfc3339_nano("2026-11-22T23:51:31"));
  EXPECT_FALSE(parse_rfc3339_nano("2026-13-22T23:51:31Z"));
  EXPECT_FALSE(parse_rfc3339_nano("2026-11-22T23:51:31.1234567890Z"));
}

TEST(K8sLogLine, ParsesStreamTagAndText) {
  auto l = parse_k8s_log_line("2026-11-22T23:51:31.550757827+00:00 stdout F hello world");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->stream, Stream::stdout_stream);
  EXPECT_FALSE(l->partial);
  EXPECT_EQ(l->text, "hello world");
  auto p = parse_k8s_log_line("2026-11-22T23:51:31.550757827+00:00 stderr P  two spaces");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->stream, Stream::stderr_stream);
  EXPECT_TRUE(p->partial);
  EXPECT_EQ(p->text, " two spaces");
  auto empty = parse_k8s_log_line("2026-11-22T23:51:31Z stdout F ");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->text, "");
  EXPECT_FALSE(parse_k8s_log_line("garbage"));
  EXPECT_FALSE(parse_k8s_log_line("2026-11-22T23:51:31Z stdin F x"));
  EXPECT_FALSE(parse_k8s_log_line("2026-11-22T23:51:31Z stdout X x"));
}

class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create(fs::temp_directory_path(), "zl-log-test-");
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
    log_ = dir_->path() / "ctr.log";
  }
  static std::string line(int sec, const char* stream, char tag, const std::string& text) {
    return fmt::format("1970-01-01T00:00:{:02}.000000000Z {} {} {}\n", sec, stream, tag, text);
  }
  void append(const fs::path& p, const std::string& data) {
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    ASSERT_TRUE(fd);
    ASSERT_TRUE(write_all(fd.get(), data, "log"));
  }
  // What conmon 2.1.6 does when --log-size-max is reached.
  void conmon_reopen() {
    fs::path tmp = log_.string() + ".tmp";
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::rename(tmp.c_str(), log_.c_str()), 0);
  }
  std::vector<LogEntry> read(const LogQuery& q = {}) {
    std::vector<LogEntry> out;
    auto s = read_container_log(log_, q, [&](const LogEntry& e) -> Status {
      out.push_back(e);
      return {};
    });
    EXPECT_TRUE(s) << s.error().message;
    return out;
  }
  static std::string texts(const std::vector<LogEntry>& es) {
    std::string s;
    for (const auto& e : es) s += (e.stream == Stream::stdout_stream ? "o:" : "e:") + e.text;
    return s;
  }

  std::optional<TempDir> dir_;
  fs::path log_;
};

TEST_F(LogFileTest, JoinsPartialsPerStreamAndKeepsStreamsApart) {
  append(log_, line(1, "stdout", 'P', "hel") + line(1, "stderr", 'F', "oops") +
                   line(2, "stdout", 'P', "lo ") + line(2, "stdout", 'F', "world") +
                   line(3, "stderr", 'P', "no newline at exit"));
  auto es = read();
  ASSERT_EQ(es.size(), 3u);
  EXPECT_EQ(texts(es), "e:oops\no:hello world\ne:no newline at exit");
  EXPECT_EQ(es[1].time_unix_nano, 1000000000);  // the time of the line's first chunk
}

TEST_F(LogFileTest, TailAndSince) {
  std::string data;
  for (int i = 0; i < 10; ++i) data += line(i, i % 2 ? "stderr" : "stdout", 'F', std::to_string(i));
  append(log_, data);
  LogQuery tail;
  tail.tail = 3;
  EXPECT_EQ(texts(read(tail)), "e:7\no:8\ne:9\n");
  LogQuery since;
  since.since_unix_nano = 8000000000;
  EXPECT_EQ(texts(read(since)), "o:8\ne:9\n");
  LogQuery both;
  both.tail = 5;
  both.since_unix_nano = 8000000000;
  EXPECT_EQ(texts(read(both)), "o:8\ne:9\n");
  LogQuery none;
  none.tail = 0;
  EXPECT_TRUE(read(none).empty());
}

TEST_F(LogFileTest, MissingLogIsEmpty) {
  EXPECT_TRUE(read().empty());
}

TEST_F(LogFileTest, RotationKeepsOneOldGeneration) {
  ASSERT_TRUE(prepare_log(log_, 1000));
  append(log_, line(1, "stdout", 'F', "gen0"));
  conmon_reopen();
  append(log_, line(2, "stdout", 'F', "gen1"));
  // Before anyone settles, the reader already sees both generations.
  EXPECT_EQ(texts(read()), "o:gen0\no:gen1\n");  // (reading settled it)
  EXPECT_TRUE(fs::exists(previous_log_path(log_)));
  conmon_reopen();
  append(log_, line(3, "stdout", 'F', "gen2"));
  ASSERT_TRUE(settle_log_rotation(log_));
  ASSERT_TRUE(settle_log_rotation(log_));        // idempotent
  EXPECT_EQ(texts(read()), "o:gen1\no:gen2\n");  // gen0 dropped: one old file only
  auto prev = read_file(previous_log_path(log_));
  ASSERT_TRUE(prev);
  EXPECT_EQ(*prev, line(2, "stdout", 'F', "gen1"));
}

TEST_F(LogFileTest, PartialLineContinuesAcrossRotation) {
  ASSERT_TRUE(prepare_log(log_, 1000));
  append(log_, line(1, "stdout", 'P', "split "));
  conmon_reopen();
  append(log_, line(2, "stdout", 'F', "line"));
  EXPECT_EQ(texts(read()), "o:split line\n");
}

TEST_F(LogFileTest, PrepareStartsAFreshFileWhenTheOldOneIsFull) {
  append(log_, line(1, "stdout", 'F', std::string(100, 'x')));
  ASSERT_TRUE(prepare_log(log_, 50));
  EXPECT_EQ(fs::file_size(log_), 0u);
  EXPECT_TRUE(fs::exists(previous_log_path(log_)));
  append(log_, line(2, "stdout", 'F', "new"));
  EXPECT_EQ(texts(read()), "o:" + std::string(100, 'x') + "\no:new\n");
}

TEST_F(LogFileTest, FollowReadsNewLinesUntilStopped) {
  ASSERT_TRUE(prepare_log(log_, 0));
  append(log_, line(1, "stdout", 'F', "before"));
  int polls = 0;
  LogQuery q;
  q.follow = true;
  q.stop = [&] {
    ++polls;
    if (polls == 2) append(log_, line(2, "stderr", 'F', "during"));
    if (polls == 3) {
      conmon_reopen();
      append(log_, line(3, "stdout", 'F', "after reopen"));
    }
    return polls >= 5;
  };
  EXPECT_EQ(texts(read(q)), "o:before\ne:during\no:after reopen\n");
}

TEST_F(LogFileTest, SinkErrorStopsReading) {
  append(log_, line(1, "stdout", 'F', "a") + line(2, "stdout", 'F', "b"));
  int n = 0;
  auto s = read_container_log(log_, {}, [&](const LogEntry&) -> Status {
    ++n;
    return io("client went away");
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace zl
