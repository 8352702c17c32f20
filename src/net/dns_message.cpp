#include "net/dns_message.h"

#include <algorithm>

namespace zl::net::dns {

namespace {

constexpr size_t kMaxLabel = 63;
constexpr size_t kMaxNameWire = 255;
constexpr size_t kOptSize = 11;  // root name, type, class, ttl, rdlength

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

uint16_t get16(std::span<const uint8_t> w, size_t at) {
  return uint16_t(w[at] << 8 | w[at + 1]);
}
uint32_t get32(std::span<const uint8_t> w, size_t at) {
  return uint32_t(w[at]) << 24 | uint32_t(w[at + 1]) << 16 | uint32_t(w[at + 2]) << 8 | w[at + 3];
}
void put16(std::string& out, uint16_t v) {
  out.push_back(char(v >> 8));
  out.push_back(char(v & 0xff));
}
void put32(std::string& out, uint32_t v) {
  put16(out, uint16_t(v >> 16));
  put16(out, uint16_t(v & 0xffff));
}

// A label's bytes in presentation form.
void append_label(std::string& out, std::span<const uint8_t> label) {
  for (uint8_t c : label) {
    if (c == '.' || c == '\\') {
      out.push_back('\\');
      out.push_back(char(c));
    } else if (c > 0x20 && c < 0x7f) {
      out.push_back(char(c));
    } else {
      out += fmt::format("\\{:03d}", c);
    }
  }
}

struct Reader {
  std::span<const uint8_t> wire;
  size_t pos = 0;

  bool has(size_t n) const { return wire.size() - pos >= n; }
  Result<uint16_t> u16(std::string_view what) {
    if (!has(2)) return invalid_argument("DNS message truncated in {}", what);
    pos += 2;
    return get16(wire, pos - 2);
  }
  Result<uint32_t> u32(std::string_view what) {
    if (!has(4)) return invalid_argument("DNS message truncated in {}", what);
    pos += 4;
    return get32(wire, pos - 4);
  }
};

Result<Question> read_question(Reader& r) {
  Question q;
  ZL_TRY_ASSIGN(q.name, read_name(r.wire, r.pos));
  ZL_TRY_ASSIGN(q.type, r.u16("question type"));
  ZL_TRY_ASSIGN(q.klass, r.u16("question class"));
  return q;
}

Result<Record> read_record(Reader& r) {
  Record rec;
  ZL_TRY_ASSIGN(rec.name, read_name(r.wire, r.pos));
  ZL_TRY_ASSIGN(rec.type, r.u16("record type"));
  ZL_TRY_ASSIGN(rec.klass, r.u16("record class"));
  ZL_TRY_ASSIGN(rec.ttl, r.u32("record TTL"));
  ZL_TRY_ASSIGN(uint16_t len, r.u16("record length"));
  if (!r.has(len)) return invalid_argument("DNS record data runs past the message ({} bytes)", len);
  rec.rdata.assign(reinterpret_cast<const char*>(r.wire.data() + r.pos), len);
  r.pos += len;
  return rec;
}

}  // namespace

Result<Header> parse_header(std::span<const uint8_t> wire) {
  if (wire.size() < kHeaderSize)
    return invalid_argument("DNS message of {} bytes is shorter than its header", wire.size());
  Header h;
  h.id = get16(wire, 0);
  uint16_t flags = get16(wire, 2);
  h.qr = flags & 0x8000;
  h.opcode = uint8_t(flags >> 11 & 0xf);
  h.aa = flags & 0x0400;
  h.tc = flags & 0x0200;
  h.rd = flags & 0x0100;
  h.ra = flags & 0x0080;
  h.ad = flags & 0x0020;
  h.cd = flags & 0x0010;
  h.rcode = uint8_t(flags & 0xf);
  h.qdcount = get16(wire, 4);
  h.ancount = get16(wire, 6);
  h.nscount = get16(wire, 8);
  h.arcount = get16(wire, 10);
  return h;
}

Result<std::string> read_name(std::span<const uint8_t> wire, size_t& offset) {
  std::string out;
  size_t pos = offset;
  size_t run_start = offset;  // where the labels being read began: a pointer must go before it
  size_t wire_len = 1;        // the name's uncompressed size, counting the final root byte
  bool jumped = false;
  while (true) {
    if (pos >= wire.size()) return invalid_argument("DNS name runs past the message");
    uint8_t len = wire[pos];
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= wire.size()) return invalid_argument("DNS name pointer runs past the message");
      size_t target = size_t(len & 0x3f) << 8 | wire[pos + 1];
      if (target >= run_start || target < kHeaderSize)
        return invalid_argument("DNS name pointer to offset {} does not point backwards", target);
      if (!jumped) offset = pos + 2;
      jumped = true;
      pos = run_start = target;
      continue;
    }
    if (len & 0xc0) return invalid_argument("DNS name has a reserved label type 0x{:02x}", len & 0xc0);
    if (len == 0) {
      if (!jumped) offset = pos + 1;
      return out;
    }
    wire_len += 1 + len;
    if (wire_len > kMaxNameWire) return invalid_argument("DNS name longer than {} bytes", kMaxNameWire);
    if (pos + 1 + len > wire.size()) return invalid_argument("DNS label runs past the message");
    if (!out.empty()) out.push_back('.');
    append_label(out, wire.subspan(pos + 1, len));
    pos += 1 + len;
  }
}

Result<Message> parse_message(std::span<const uint8_t> wire) {
  Message m;
  ZL_TRY_ASSIGN(m.header, parse_header(wire));
  Reader r{wire, kHeaderSize};
  for (uint16_t i = 0; i < m.header.qdcount; ++i) {
    ZL_TRY_ASSIGN(auto q, read_question(r));
    m.questions.push_back(std::move(q));
  }
  for (auto [count, section] :
       {std::pair{m.header.ancount, &m.answers}, std::pair{m.header.nscount, &m.authority},
        std::pair{m.header.arcount, &m.additional}}) {
    for (uint16_t i = 0; i < count; ++i) {
      ZL_TRY_ASSIGN(auto rec, read_record(r));
      if (rec.type != type::OPT) {
        section->push_back(std::move(rec));
        continue;
      }
      if (section != &m.additional) return invalid_argument("DNS OPT record outside the additional section");
      if (m.edns) return invalid_argument("DNS message has more than one OPT record");
      if (!rec.name.empty()) return invalid_argument("DNS OPT record with a name other than the root");
      Edns e;
      e.udp_size = std::max<uint16_t>(rec.klass, kClassicUdpSize);
      e.extended_rcode = uint8_t(rec.ttl >> 24);
      e.version = uint8_t(rec.ttl >> 16);
      e.dnssec_ok = rec.ttl & 0x8000;
      m.edns = e;
    }
  }
  return m;
}

Result<std::string> encode_name(std::string_view name) {
  std::string out;
  if (name == "." || name.empty()) return std::string(1, '\0');
  std::string label;
  auto flush = [&]() -> Status {
    if (label.empty()) return invalid_argument("DNS name \"{}\" has an empty label", name);
    if (label.size() > kMaxLabel)
      return invalid_argument("DNS name \"{}\" has a label over {} bytes", name, kMaxLabel);
    out.push_back(char(label.size()));
    out += label;
    label.clear();
    return {};
  };
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      ZL_TRY(flush());
      if (i + 1 == name.size()) break;  // the trailing dot of an absolute name
      continue;
    }
    if (c != '\\') {
      label.push_back(c);
      continue;
    }
    if (i + 1 >= name.size()) return invalid_argument("DNS name \"{}\" ends with a lone backslash", name);
    if (is_digit(name[i + 1])) {
      if (i + 3 >= name.size() || !is_digit(name[i + 2]) || !is_digit(name[i + 3]))
        return invalid_argument("DNS name \"{}\" has a bad \\DDD escape", name);
      int v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 + (name[i + 3] - '0');
      if (v > 255) return invalid_argument("DNS name \"{}\" has a bad \\DDD escape", name);
      label.push_back(char(v));
      i += 3;
    } else {
      label.push_back(name[++i]);
    }
  }
  if (!label.empty()) ZL_TRY(flush());
  out.push_back('\0');
  if (out.size() > kMaxNameWire)
    return invalid_argument("DNS name \"{}\" is longer than {} bytes", name, kMaxNameWire);
  return out;
}

std::string canonical_name(std::string_view name) {
  if (!name.empty() && name.back() == '.' && (name.size() < 2 || name[name.size() - 2] != '\\'))
    name.remove_suffix(1);
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

size_t udp_reply_limit(const Message& query) {
  if (!query.edns) return kClassicUdpSize;
  return std::clamp<size_t>(query.edns->udp_size, kClassicUdpSize, kEdnsUdpSize);
}

std::string build_reply(const Message& query, uint16_t rc, const std::vector<Answer>& answers,
                        bool authoritative, size_t max_size) {
  const Header& q = query.header;
  std::string question;
  if (!query.questions.empty()) {
    const Question& qq = query.questions.front();
    if (auto wire = encode_name(qq.name)) {
      question = std::move(*wire);
      put16(question, qq.type);
      put16(question, qq.klass);
    }
  }
  size_t opt = query.edns ? kOptSize : 0;
  if (kHeaderSize + question.size() + opt > max_size) question.clear();
  bool with_question = !question.empty();

  std::string body;
  uint16_t ancount = 0;
  bool truncated = false;
  if (with_question) {
    for (const auto& a : answers) {
      size_t need = 2 + 10 + a.rdata.size();
      if (a.rdata.size() > 0xffff || kHeaderSize + question.size() + body.size() + need + opt > max_size ||
          ancount == 0xffff) {
        truncated = true;
        break;
      }
      put16(body, 0xc000 | kHeaderSize);  // the owner: the question's name, just after the header
      put16(body, a.type);
      put16(body, kClassIn);
      put32(body, a.ttl);
      put16(body, uint16_t(a.rdata.size()));
      body += a.rdata;
      ++ancount;
    }
  } else if (!answers.empty()) {
    truncated = true;
  }

  std::string out;
  out.reserve(kHeaderSize + question.size() + body.size() + opt);
  put16(out, q.id);
  uint16_t flags = 0x8000 | uint16_t(q.opcode & 0xf) << 11 | 0x0080 | (rc & 0xf);
  if (authoritative) flags |= 0x0400;
  if (truncated) flags |= 0x0200;
  if (q.rd) flags |= 0x0100;
  if (q.cd) flags |= 0x0010;
  put16(out, flags);
  put16(out, with_question ? 1 : 0);
  put16(out, ancount);
  put16(out, 0);
  put16(out, query.edns ? 1 : 0);
  out += question;
  out += body;
  if (query.edns) {
    out.push_back('\0');
    put16(out, type::OPT);
    put16(out, kEdnsUdpSize);
    put32(out, uint32_t(rc >> 4 & 0xff) << 24 | (query.edns->dnssec_ok ? 0x8000u : 0u));
    put16(out, 0);
  }
  return out;
}

Result<std::string> build_query(uint16_t id, std::string_view name, uint16_t qtype,
                                std::optional<uint16_t> edns_size) {
  ZL_TRY_ASSIGN(auto qname, encode_name(name));
  std::string out;
  put16(out, id);
  put16(out, 0x0100);  // RD
  put16(out, 1);
  put16(out, 0);
  put16(out, 0);
  put16(out, edns_size ? 1 : 0);
  out += qname;
  put16(out, qtype);
  put16(out, kClassIn);
  if (edns_size) {
    out.push_back('\0');
    put16(out, type::OPT);
    put16(out, *edns_size);
    put32(out, 0);
    put16(out, 0);
  }
  return out;
}

}  // namespace zl::net::dns
