// SIP over a stream (RFC 3261 §18.3): messages cut by the header end and Content-Length, whatever the
// read boundaries; keep-alive pings (RFC 5626 §4.4.1); 400 without Content-Length; 513 over the limit.
#include "sip/stream_framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warmline::sip {
namespace {

const std::string kOptions =
    "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
    "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\nhello";

std::vector<std::string> messages_of(StreamFramer& f) {
  std::vector<std::string> out;
  for (int i = 0; i < 100; ++i) {
    StreamEvent e = f.next();
    if (e.kind != StreamEvent::Kind::message) break;
    out.emplace_back(e.bytes);
  }
  return out;
}

TEST(StreamFramerTest, WholeMessageWithBody) {
  StreamFramer f;
  f.append(kOptions);
  StreamEvent e = f.next();
  ASSERT_EQ(e.kind, StreamEvent::Kind::message);
  EXPECT_EQ(e.bytes, kOptions);
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::need_more);
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(StreamFramerTest, ByteByByteGivesTheSameMessage) {
  StreamFramer f;
  std::vector<std::string> got;
  for (char c : kOptions + kOptions) {
    f.append(std::string_view(&c, 1));
    for (auto& m : messages_of(f)) got.push_back(m);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], kOptions);
  EXPECT_EQ(got[1], kOptions);
}

TEST(StreamFramerTest, TwoMessagesInOneRead) {
  StreamFramer f;
  f.append(kOptions + kOptions);
  auto got = messages_of(f);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], kOptions);
}

TEST(StreamFramerTest, BodyBytesBeyondContentLengthStartTheNextMessage) {
  StreamFramer f;
  f.append(kOptions + "\r\n\r\n");
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::message);
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::ping);
}

TEST(StreamFramerTest, CompactContentLengthAndCase) {
  StreamFramer f;
  const std::string m = "BYE sip:a@b SIP/2.0\r\nl: 2\r\nvia: x\r\n\r\nok";
  f.append(m);
  StreamEvent e = f.next();
  ASSERT_EQ(e.kind, StreamEvent::Kind::message);
  EXPECT_EQ(e.bytes, m);
}

TEST(StreamFramerTest, KeepAlivePingAndPong) {
  StreamFramer f;
  f.append("\r\n\r\n");
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::ping);
  f.append("\r\n");  // a pong, or half a ping: nothing yet
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::need_more);
  f.append(kOptions);  // it was a pong
  StreamEvent e = f.next();
  ASSERT_EQ(e.kind, StreamEvent::Kind::message);
  EXPECT_EQ(e.bytes, kOptions);
}

TEST(StreamFramerTest, PingSplitAcrossReads) {
  StreamFramer f;
  f.append("\r\n\r");
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::need_more);
  f.append("\n");
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::ping);
}

TEST(StreamFramerTest, MissingContentLengthIs400AndFinal) {
  StreamFramer f;
  f.append("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\nCall-ID: c\r\n\r\n");
  StreamEvent e = f.next();
  ASSERT_EQ(e.kind, StreamEvent::Kind::error);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "Bad Request - Missing Content-Length");
  EXPECT_TRUE(e.bytes.starts_with("INVITE sip:a@b SIP/2.0\r\n"));
  f.append(kOptions);
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::error);  // the stream has no frame boundaries left
}

TEST(StreamFramerTest, MalformedOrConflictingContentLengthIs400) {
  for (std::string cl : {"Content-Length: -1\r\n", "Content-Length: 1x\r\n", "Content-Length: 12345678901\r\n",
                         "Content-Length: 1\r\nl: 2\r\n"}) {
    StreamFramer f;
    f.append("BYE sip:a@b SIP/2.0\r\n" + cl + "\r\n");
    StreamEvent e = f.next();
    ASSERT_EQ(e.kind, StreamEvent::Kind::error) << cl;
    EXPECT_EQ(e.status, 400) << cl;
    EXPECT_EQ(e.reason, "Bad Request - Malformed Content-Length") << cl;
  }
}

TEST(StreamFramerTest, BodyOverTheLimitIs513BeforeItArrives) {
  StreamFramer f(1000);
  f.append("INVITE sip:a@b SIP/2.0\r\nContent-Length: 2000\r\n\r\n");
  StreamEvent e = f.next();
  ASSERT_EQ(e.kind, StreamEvent::Kind::error);
  EXPECT_EQ(e.status, 513);
  EXPECT_EQ(e.reason, "Message Too Large");
}

TEST(StreamFramerTest, HeadersWithoutEndOverTheLimitAre513) {
  StreamFramer f(1000);
  f.append("INVITE sip:a@b SIP/2.0\r\n");
  std::string filler = "X-Filler: " + std::string(100, 'a') + "\r\n";
  for (int i = 0; i < 8; ++i) f.append(filler);  // 24 + 8 * 112 = 920 bytes: not over 1000 yet
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::need_more);
  f.append(filler);
  StreamEvent e = f.next();
  ASSERT_EQ(e.kind, StreamEvent::Kind::error);
  EXPECT_EQ(e.status, 513);
  EXPECT_LE(e.bytes.size(), 1000u);
}

TEST(StreamFramerTest, MessageExactlyAtTheLimitPasses) {
  StreamFramer f(kOptions.size());
  f.append(kOptions);
  EXPECT_EQ(f.next().kind, StreamEvent::Kind::message);
}

TEST(StreamFramerTest, FoldedLinesAreNotHeaderNames) {
  EXPECT_EQ(stream_content_length("BYE x SIP/2.0\r\nSubject: a\r\n Content-Length: 9\r\nl: 3\r\n"), 3);
  EXPECT_EQ(stream_content_length("BYE x SIP/2.0\r\nSubject: a\r\n"), -1);
}

}  // namespace
}  // namespace warmline::sip
