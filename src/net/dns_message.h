// DNS wire format (RFC 1035) for the embedded DNS server: hostile packets parsed into messages
// (compression pointers followed, but only backwards: no loops), replies built with the question
// echoed and answers compressed against it, EDNS0 (RFC 6891) OPT understood, TC set when a reply
// does not fit. Names are in presentation form without the trailing dot ("web.service.local");
// a '.' or '\' inside a label is escaped with '\', other bytes outside printable ASCII as \DDD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zl::net::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kClassicUdpSize = 512;    // a UDP reply's limit without EDNS0
inline constexpr size_t kMaxMessageSize = 65535;  // TCP's 2-byte length prefix
inline constexpr uint16_t kEdnsUdpSize = 1232;    // what we advertise (DNS flag day 2020)

namespace type {
inline constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28, OPT = 41,
                          ANY = 255;
}
inline constexpr uint16_t kClassIn = 1, kClassAny = 255;

namespace rcode {
inline constexpr uint16_t noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5,
                          badvers = 16;  // extended: 12 bits, the upper 8 in the OPT record
}
inline constexpr uint8_t kOpcodeQuery = 0;

struct Header {
  uint16_t id = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  uint8_t opcode = 0;
  uint8_t rcode = 0;  // the header's 4 bits (see Message::rcode() for the extended one)
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};

struct Question {
  std::string name;  // as sent (case kept)
  uint16_t type = 0;
  uint16_t klass = kClassIn;
};

struct Record {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = kClassIn;
  uint32_t ttl = 0;
  std::string rdata;  // raw bytes; names inside (CNAME, PTR...) are not expanded
};

// The OPT pseudo-record of EDNS0.
struct Edns {
  uint16_t udp_size = kClassicUdpSize;  // the sender's UDP payload limit (values < 512 mean 512)
  uint8_t version = 0;
  uint8_t extended_rcode = 0;  // upper 8 bits of the 12-bit rcode
  bool dnssec_ok = false;
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers, authority, additional;  // additional without the OPT record
  std::optional<Edns> edns;

  uint16_t rcode() const { return uint16_t(header.rcode | (edns ? edns->extended_rcode << 4 : 0)); }
};

// The 12-byte header alone: invalid_argument when shorter.
Result<Header> parse_header(std::span<const uint8_t> wire);

// A whole message. Anything malformed is invalid_argument, never a crash: truncated sections,
// counts that do not match, labels over 63 bytes, names over 255, pointers that do not point
// strictly backwards (hence no loops) or into the header, reserved label types, two OPT records.
Result<Message> parse_message(std::span<const uint8_t> wire);

// Reads the (possibly compressed) name at `offset`; advances it past the name's bytes there.
Result<std::string> read_name(std::span<const uint8_t> wire, size_t& offset);

// Wire form of a presentation name, uncompressed ("" is the root). invalid_argument for empty
// labels, labels over 63 bytes, names over 255 or bad escapes.
Result<std::string> encode_name(std::string_view name);

// The key a name is matched by: ASCII lower-cased, one trailing dot dropped.
std::string canonical_name(std::string_view name);

// One answer of a reply: its owner is the question's name.
struct Answer {
  uint16_t type = type::A;
  uint32_t ttl = 0;
  std::string rdata;
};

// A reply to `query`: same id, opcode and RD, QR and RA set, AA as given; its first question
// echoed (case kept); `rcode` (extended rcodes go into the OPT record); an OPT record when the
// query had one. Answers that would take the reply past `max_size` are left out and TC is set.
// When even the question does not fit (or the query has none), the reply is the header alone.
std::string build_reply(const Message& query, uint16_t rcode, const std::vector<Answer>& answers,
                        bool authoritative, size_t max_size);

// How large a UDP reply to `query` may be: its EDNS0 size (at least 512, at most what we
// advertise), 512 without EDNS0.
size_t udp_reply_limit(const Message& query);

// A query with one question (RD set, EDNS0 OPT when edns_size is given): for clients and tests.
Result<std::string> build_query(uint16_t id, std::string_view name, uint16_t qtype,
                                std::optional<uint16_t> edns_size = std::nullopt);

}  // namespace zl::net::dns
