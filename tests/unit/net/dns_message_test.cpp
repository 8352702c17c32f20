// DNS wire format: queries and replies round-trip, compression pointers are followed only
// backwards, EDNS0 and truncation, and hostile packets are rejected without crashing.
#include <gtest/gtest.h>

#include <random>

#include "net/dns_message.h"

namespace zl::net::dns {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A header with the given counts.
std::string header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an = 0, uint16_t ns = 0,
                   uint16_t ar = 0) {
  std::string h;
  for (uint16_t v : {id, flags, qd, an, ns, ar}) {
    h.push_back(char(v >> 8));
    h.push_back(char(v & 0xff));
  }
  return h;
}

Message parsed(const std::string& wire) {
  auto m = parse_message(bytes(wire));
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? *m : Message{};
}

std::string a_rdata(uint8_t last) {
  return std::string{10, char(200), 0, char(last)};
}

TEST(DnsMessage, QueryRoundTrips) {
  auto q = build_query(0x1234, "Web.Service.Local.", type::A);
  ASSERT_TRUE(q);
  auto m = parsed(*q);
  EXPECT_EQ(m.header.id, 0x1234);
  EXPECT_FALSE(m.header.qr);
  EXPECT_TRUE(m.header.rd);
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].name, "Web.Service.Local") << "case kept, no trailing dot";
  EXPECT_EQ(m.questions[0].type, type::A);
  EXPECT_EQ(m.questions[0].klass, kClassIn);
  EXPECT_FALSE(m.edns);
  EXPECT_EQ(udp_reply_limit(m), kClassicUdpSize);
}

TEST(DnsMessage, ReplyEchoesTheQuestionAndCompressesAnswersAgainstIt) {
  auto q = parsed(*build_query(7, "WEB", type::A));
  auto wire = build_reply(q, rcode::noerror, {{type::A, 5, a_rdata(5)}, {type::A, 5, a_rdata(6)}}, true, 512);
  // header 12 + question (1+3+1 + 4) + 2 answers of 2+10+4 bytes: the owner is a 2-byte pointer
  EXPECT_EQ(wire.size(), 12u + 9 + 2 * 16);
  auto r = parsed(wire);
  EXPECT_EQ(r.header.id, 7);
  EXPECT_TRUE(r.header.qr);
  EXPECT_TRUE(r.header.aa);
  EXPECT_TRUE(r.header.rd);
  EXPECT_TRUE(r.header.ra);
  EXPECT_FALSE(r.header.tc);
  EXPECT_EQ(r.rcode(), rcode::noerror);
  ASSERT_EQ(r.questions.size(), 1u);
  EXPECT_EQ(r.questions[0].name, "WEB");
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0].name, "WEB");
  EXPECT_EQ(r.answers[0].ttl, 5u);
  EXPECT_EQ(r.answers[0].rdata, a_rdata(5));
  EXPECT_EQ(r.answers[1].rdata, a_rdata(6));
}

TEST(DnsMessage, NxdomainAndNodata) {
  auto q = parsed(*build_query(9, "nope.service.local", type::AAAA));
  auto r = parsed(build_reply(q, rcode::nxdomain, {}, true, 512));
  EXPECT_EQ(r.rcode(), rcode::nxdomain);
  EXPECT_TRUE(r.answers.empty());
  auto n = parsed(build_reply(q, rcode::noerror, {}, true, 512));
  EXPECT_EQ(n.rcode(), rcode::noerror);
  EXPECT_TRUE(n.answers.empty());
}

TEST(DnsMessage, CompressedNamesAreExpanded) {
  // question www.example.com at 12; answer owner: pointer to "example.com" at 16, prefixed by "mail"
  std::string w = header(1, 0x8180, 1, 2);
  w += std::string("\3www\7example\3com\0", 17) + std::string("\0\1\0\1", 4);
  w += std::string("\4mail\xc0\x10", 7) + std::string("\0\1\0\1\0\0\0\x3c\0\4", 10) + a_rdata(1);
  w += std::string("\xc0\x0c", 2) + std::string("\0\1\0\1\0\0\0\x3c\0\4", 10) + a_rdata(2);
  auto m = parsed(w);
  ASSERT_EQ(m.answers.size(), 2u);
  EXPECT_EQ(m.questions[0].name, "www.example.com");
  EXPECT_EQ(m.answers[0].name, "mail.example.com");
  EXPECT_EQ(m.answers[0].ttl, 60u);
  EXPECT_EQ(m.answers[1].name, "www.example.com");
  EXPECT_EQ(m.answers[1].rdata, a_rdata(2));
}

TEST(DnsMessage, PointerLoopsAndForwardPointersAreRejected) {
  auto question_tail = std::string("\0\1\0\1", 4);
  // A pointer to itself.
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1) + std::string("\xc0\x0c", 2) + question_tail)));
  // A label, then a pointer back to the start of the same name: a loop.
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1) + std::string("\1a\xc0\x0c", 4) + question_tail)));
  // Two names pointing at each other: the answer's name at 19 points to 21, which points back to 19.
  std::string w = header(1, 0x8000, 1, 1) + std::string("\1a\0", 3) + question_tail;
  w += std::string("\xc0\x15\xc0\x13", 4) + std::string("\0\1\0\1\0\0\0\0\0\0", 10);
  EXPECT_FALSE(parse_message(bytes(w)));
  // A forward pointer, and one into the header.
  EXPECT_FALSE(parse_message(
      bytes(header(1, 0, 1) + std::string("\xc0\x20", 2) + question_tail + std::string(20, 'x'))));
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1) + std::string("\xc0\x02", 2) + question_tail)));
  // A pointer past the end.
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1) + std::string("\xc0", 1))));
}

TEST(DnsMessage, BadLabelsAndLongNamesAreRejected) {
  auto tail = std::string("\0\0\1\0\1", 5);
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1) + std::string("\x40", 1) + std::string(64, 'a') + tail)))
      << "reserved label type 01";
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1) + std::string("\x80", 1) + tail)));
  // 5 labels of 63: 320 bytes, over 255.
  std::string name;
  for (int i = 0; i < 5; ++i) name += char(63) + std::string(63, 'a');
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1) + name + tail)));
  // A count that promises more than there is.
  auto q = *build_query(1, "web", type::A);
  q[5] = 2;
  EXPECT_FALSE(parse_message(bytes(q)));
  EXPECT_FALSE(parse_header(bytes(std::string(11, '\0'))));
}

TEST(DnsMessage, EveryPrefixOfAValidMessageIsRejected) {
  auto q = parsed(*build_query(3, "web.service.local", type::A, 4096));
  auto wire = build_reply(q, rcode::noerror, {{type::A, 5, a_rdata(1)}, {type::A, 5, a_rdata(2)}}, true, 512);
  ASSERT_TRUE(parse_message(bytes(wire)));
  for (size_t n = 0; n < wire.size(); ++n) EXPECT_FALSE(parse_message(bytes(wire.substr(0, n)))) << n;
}

TEST(DnsMessage, RandomCorruptionNeverCrashes) {
  auto q = parsed(*build_query(3, "web.service.local", type::A, 4096));
  auto wire = build_reply(q, rcode::noerror, {{type::A, 5, a_rdata(1)}, {type::A, 5, a_rdata(2)}}, true, 512);
  std::mt19937 rng(42);
  size_t accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    auto w = wire;
    int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) w[rng() % w.size()] = char(rng());
    if (rng() % 4 == 0) w.resize(rng() % (w.size() + 1));
    auto m = parse_message(bytes(w));
    if (m) {
      ++accepted;
      // Whatever parses can be answered.
      (void)build_reply(*m, rcode::noerror, {}, false, 512);
    }
  }
  // And pure noise.
  for (int i = 0; i < 20000; ++i) {
    std::string w(rng() % 300, '\0');
    for (auto& c : w) c = char(rng());
    (void)parse_message(bytes(w));
  }
  SUCCEED() << accepted << " corrupted messages still parsed";
}

TEST(DnsMessage, UdpRepliesWithoutEdnsAreTruncatedAt512) {
  auto q = parsed(*build_query(5, "web", type::A));
  std::vector<Answer> many;
  for (int i = 0; i < 40; ++i) many.push_back({type::A, 5, a_rdata(uint8_t(i))});
  auto wire = build_reply(q, rcode::noerror, many, true, udp_reply_limit(q));
  EXPECT_LE(wire.size(), 512u);
  auto r = parsed(wire);
  EXPECT_TRUE(r.header.tc);
  EXPECT_EQ(r.answers.size(), (512u - 12 - 9) / 16);

  // With EDNS0 the client's size counts (capped at what we advertise): all 40 fit.
  auto e = parsed(*build_query(5, "web", type::A, 4096));
  EXPECT_EQ(udp_reply_limit(e), kEdnsUdpSize);
  auto big = parsed(build_reply(e, rcode::noerror, many, true, udp_reply_limit(e)));
  EXPECT_FALSE(big.header.tc);
  EXPECT_EQ(big.answers.size(), 40u);
  ASSERT_TRUE(big.edns) << "a query with OPT gets OPT back";
  EXPECT_EQ(big.edns->udp_size, kEdnsUdpSize);

  // Over TCP: 65535.
  auto tcp = parsed(build_reply(q, rcode::noerror, many, true, kMaxMessageSize));
  EXPECT_FALSE(tcp.header.tc);
  EXPECT_EQ(tcp.answers.size(), 40u);
}

TEST(DnsMessage, EdnsOptIsParsedAndCheckedAndExtendedRcodesRoundTrip) {
  auto q = *build_query(5, "web", type::A, 1400);
  q[q.size() - 5] = 1;  // version 1 (ttl byte 2)
  auto m = parsed(q);
  ASSERT_TRUE(m.edns);
  EXPECT_EQ(m.edns->udp_size, 1400);
  EXPECT_EQ(m.edns->version, 1);
  EXPECT_TRUE(m.additional.empty()) << "the OPT record is not an ordinary record";
  auto r = parsed(build_reply(m, rcode::badvers, {}, false, 512));
  EXPECT_EQ(r.rcode(), rcode::badvers);
  EXPECT_EQ(r.header.rcode, 0);

  // A tiny advertised size counts as 512.
  auto small = parsed(*build_query(5, "web", type::A, 100));
  EXPECT_EQ(small.edns->udp_size, 512);

  // Two OPT records; one in the answer section; one with a name.
  std::string opt = std::string("\0\0\x29\x10\0\0\0\0\0\0\0", 11);
  auto base = std::string("\3web\0\0\1\0\1", 9);
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1, 0, 0, 2) + base + opt + opt)));
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1, 1, 0, 0) + base + opt)));
  EXPECT_FALSE(parse_message(bytes(header(1, 0, 1, 0, 0, 1) + base + std::string("\1x", 2) + opt)));
}

TEST(DnsMessage, NamesEncodeWithEscapesAndLimits) {
  EXPECT_EQ(*encode_name("web.local"), std::string("\3web\5local\0", 11));
  EXPECT_EQ(*encode_name("web.local."), std::string("\3web\5local\0", 11));
  EXPECT_EQ(*encode_name(""), std::string(1, '\0'));
  EXPECT_EQ(*encode_name("a\\.b.c"), std::string("\3a.b\1c\0", 7));
  EXPECT_EQ(*encode_name("a\\032b"), std::string("\3a b\0", 5));
  EXPECT_FALSE(encode_name("a..b"));
  EXPECT_FALSE(encode_name(".a"));
  EXPECT_FALSE(encode_name(std::string(64, 'a')));
  EXPECT_TRUE(encode_name(std::string(63, 'a')));
  EXPECT_FALSE(encode_name("a\\2"));
  EXPECT_FALSE(encode_name("a\\999"));
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(63, 'a') + ".";
  EXPECT_FALSE(encode_name(long_name)) << "4 x 64 + 1 = 257 bytes";

  // A label holding a dot is not two labels: escaped in presentation form, and back.
  std::string w = header(1, 0, 1) + std::string("\3a.b\1c\0\0\1\0\1", 11);
  auto m = parsed(w);
  EXPECT_EQ(m.questions[0].name, "a\\.b.c");
  EXPECT_EQ(build_reply(m, rcode::noerror, {}, false, 512).substr(12, 7), std::string("\3a.b\1c\0", 7));

  EXPECT_EQ(canonical_name("Web.Service.LOCAL."), "web.service.local");
  EXPECT_EQ(canonical_name("web"), "web");
}

TEST(DnsMessage, FormerrReplyToAnUnparsableQueryIsTheHeaderAlone) {
  Message bare;
  bare.header.id = 0xbeef;
  bare.header.rd = true;
  auto w = build_reply(bare, rcode::formerr, {}, false, 512);
  ASSERT_EQ(w.size(), kHeaderSize);
  auto h = parse_header(bytes(w));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, 0xbeef);
  EXPECT_TRUE(h->qr);
  EXPECT_EQ(h->rcode, rcode::formerr);
  EXPECT_EQ(h->qdcount, 0);
}

}  // namespace
}  // namespace zl::net::dns
