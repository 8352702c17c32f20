#include "net/dns_server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstring>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>

#include "common/fs.h"
#include "net/dns_message.h"

namespace zl::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

std::string DnsEndpoint::str() const {
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), port);
  return fmt::format("{}:{}", address.to_string(), port);
}

Result<DnsEndpoint> parse_dns_endpoint(std::string_view text, uint16_t default_port) {
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return invalid_argument("invalid address \"{}\": no closing ']'", text);
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return invalid_argument("invalid address \"{}\": expected [IPv6]:PORT", text);
      port = rest.substr(1);
    }
  } else if (auto colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);  // one colon: IPv4:PORT (more: a bare IPv6 address)
    port = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(std::string(host), ec);
  if (ec) return invalid_argument("invalid address \"{}\": \"{}\" is not an IP address", text, host);
  DnsEndpoint ep{addr, default_port};
  if (port) {
    unsigned value = 0;
    auto [end, err] = std::from_chars(port->data(), port->data() + port->size(), value);
    if (err != std::errc() || end != port->data() + port->size() || value == 0 || value > 65535)
      return invalid_argument("invalid address \"{}\": bad port \"{}\"", text, *port);
    ep.port = uint16_t(value);
  }
  return ep;
}

Result<std::vector<DnsEndpoint>> resolv_conf_upstreams(const fs::path& path, bool keep_loopback) {
  ZL_TRY_ASSIGN(auto text, read_file(path));
  std::vector<DnsEndpoint> out;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    auto word = [&line]() {
      while (!line.empty() && (line[0] == ' ' || line[0] == '\t')) line.remove_prefix(1);
      auto n = line.find_first_of(" \t\r");
      auto w = line.substr(0, n);
      line.remove_prefix(w.size());
      return w;
    };
    if (word() != "nameserver") continue;
    auto host = std::string(word());
    if (auto pct = host.find('%'); pct != std::string::npos) host.resize(pct);  // fe80::1%eth0: no use to us
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec || (addr.is_v6() && addr.to_v6().is_link_local())) continue;
    if (addr.is_loopback() && !keep_loopback) continue;
    DnsEndpoint ep{addr, 53};
    if (std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
  }
  return out;
}

Result<DnsRecordMap> parse_dns_records(std::string_view text) {
  try {
    auto doc = nlohmann::json::parse(text);
    if (!doc.is_object() || !doc.contains("records") || !doc["records"].is_object())
      return invalid_argument("DNS records: expected an object {{\"records\": {{name: [addresses]}}}}");
    DnsRecordMap out;
    for (const auto& [name, addrs] : doc["records"].items()) {
      auto key = dns::canonical_name(name);
      if (key.empty() || !dns::encode_name(key))
        return invalid_argument("DNS records: \"{}\" is not a valid name", name);
      if (!addrs.is_array()) return invalid_argument("DNS records: addresses of \"{}\" are not a list", name);
      auto& list = out[key];
      for (const auto& a : addrs) {
        boost::system::error_code ec;
        auto addr = a.is_string() ? asio::ip::make_address(a.get<std::string>(), ec) : asio::ip::address();
        if (!a.is_string() || ec)
          return invalid_argument("DNS records: bad address {} for \"{}\"", a.dump(), name);
        if (addr.is_v6() && addr.to_v6().is_v4_mapped())
          addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
        if (std::find(list.begin(), list.end(), addr) == list.end()) list.push_back(addr);
      }
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument("DNS records: {}", e.what());
  }
}

namespace {

// "5.0.200.10.in-addr.arpa" -> 10.200.0.5
std::optional<asio::ip::address_v4> reverse_v4(std::string_view name) {
  constexpr std::string_view suffix = ".in-addr.arpa";
  if (!name.ends_with(suffix)) return std::nullopt;
  name.remove_suffix(suffix.size());
  std::array<unsigned, 4> octets{};
  for (int i = 3; i >= 0; --i) {
    auto dot = name.find('.');
    if ((dot == std::string_view::npos) != (i == 0)) return std::nullopt;
    auto part = name.substr(0, dot);
    auto [end, err] = std::from_chars(part.data(), part.data() + part.size(), octets[size_t(i)]);
    if (err != std::errc() || end != part.data() + part.size() || part.empty() || octets[size_t(i)] > 255)
      return std::nullopt;
    name.remove_prefix(i == 0 ? part.size() : dot + 1);
  }
  return asio::ip::make_address_v4(asio::ip::address_v4::bytes_type{uint8_t(octets[0]), uint8_t(octets[1]),
                                                                    uint8_t(octets[2]), uint8_t(octets[3])});
}

size_t labels(const std::string& name) {
  return size_t(std::count(name.begin(), name.end(), '.')) + 1;
}

// The records file and what was loaded from it. Its identity is checked before each answer (a
// stat, ~1 µs): a removed container's names are gone from the next query on, not an interval later.
class RecordFile {
 public:
  explicit RecordFile(fs::path path) : path_(std::move(path)) {}

  void refresh() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      if (!missing_logged_)
        spdlog::warn("dns records file={} unreadable: {}; keeping {} names", path_.string(),
                     std::strerror(errno), records_.size());
      missing_logged_ = true;
      return;
    }
    missing_logged_ = false;
    Identity id{st.st_ino,          st.st_dev,         st.st_size,        st.st_mtim.tv_sec,
                st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
    if (id == seen_) return;
    seen_ = id;
    auto text = read_file(path_);
    auto parsed = text ? parse_dns_records(*text) : tl::unexpected(text.error());
    if (!parsed) {
      spdlog::warn("dns records file={} not loaded: {}; keeping {} names", path_.string(),
                   parsed.error().message, records_.size());
      return;
    }
    records_ = std::move(*parsed);
    rotation_.clear();
    reverse_.clear();
    for (const auto& [name, addrs] : records_)
      for (const auto& a : addrs) {
        if (!a.is_v4()) continue;
        auto [it, fresh] = reverse_.emplace(a.to_v4(), name);
        // The most specific name wins ("1.web.service.local" over "web").
        if (!fresh &&
            (labels(name) > labels(it->second) || (labels(name) == labels(it->second) && name < it->second)))
          it->second = name;
      }
    spdlog::info("dns records file={} loaded names={}", path_.string(), records_.size());
  }

  const std::vector<asio::ip::address>* find(const std::string& name) const {
    auto it = records_.find(name);
    return it == records_.end() ? nullptr : &it->second;
  }
  const std::string* name_of(const asio::ip::address_v4& a) const {
    auto it = reverse_.find(a);
    return it == reverse_.end() ? nullptr : &it->second;
  }
  // The next round-robin start for a name.
  uint32_t next_turn(const std::string& name) { return rotation_[name]++; }

 private:
  struct Identity {
    ino_t ino = 0;
    dev_t dev = 0;
    off_t size = -1;
    time_t mtime = 0;
    long mtime_ns = 0;
    time_t ctime = 0;
    long ctime_ns = 0;
    bool operator==(const Identity&) const = default;
  };
  fs::path path_;
  Identity seen_;
  bool missing_logged_ = false;
  DnsRecordMap records_;
  std::unordered_map<std::string, uint32_t> rotation_;
  std::map<asio::ip::address_v4, std::string> reverse_;
};

std::string rdata_of(const asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return std::string(b.begin(), b.end());
  }
  auto b = a.to_v6().to_bytes();
  return std::string(b.begin(), b.end());
}

using Reply = std::function<void(std::string)>;

std::string_view type_name(uint16_t t) {
  switch (t) {
    case dns::type::A:
      return "A";
    case dns::type::AAAA:
      return "AAAA";
    case dns::type::ANY:
      return "ANY";
    case dns::type::PTR:
      return "PTR";
    case dns::type::MX:
      return "MX";
    case dns::type::TXT:
      return "TXT";
    case dns::type::NS:
      return "NS";
    case dns::type::SOA:
      return "SOA";
    case dns::type::CNAME:
      return "CNAME";
    default:
      return "other";
  }
}

}  // namespace

struct DnsServer::Impl : std::enable_shared_from_this<Impl> {
  struct UdpListener {
    udp::socket sock;
    udp::endpoint from;
    std::array<uint8_t, dns::kMaxMessageSize> buf{};
    explicit UdpListener(asio::io_context& loop) : sock(loop) {}
  };
  struct TcpConn;

  asio::io_context& loop;
  DnsServerOptions opts;
  RecordFile records;
  std::vector<std::shared_ptr<UdpListener>> udp_listeners;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::vector<std::weak_ptr<TcpConn>> conns;
  size_t forwards = 0;
  bool stopped = false;
  std::mt19937 rng{std::random_device{}()};

  Impl(asio::io_context& l, DnsServerOptions o)
      : loop(l), opts(std::move(o)), records(opts.records_file) {
    opts.zone = dns::canonical_name(opts.zone);
  }

  bool in_zone(const std::string& name) const {
    if (opts.zone.empty()) return false;
    return name == opts.zone || (name.size() > opts.zone.size() && name.ends_with(opts.zone) &&
                                 name[name.size() - opts.zone.size() - 1] == '.');
  }

  // The record a name finds: its own, or with the search domain taken off. The key is returned
  // in `key` (its round-robin turn is counted there).
  const std::vector<asio::ip::address>* lookup(const std::string& name, std::string& key) const {
    key = name;
    if (auto* found = records.find(key)) return found;
    if (!in_zone(name) || name == opts.zone) return nullptr;
    key = name.substr(0, name.size() - opts.zone.size() - 1);
    return records.find(key);
  }

  // Answers one query: at once when local, later (through `reply`) when forwarded. Packets that
  // are not queries get no answer at all.
  void handle(std::span<const uint8_t> packet, bool over_tcp, const std::string& peer, Reply reply) {
    auto header = dns::parse_header(packet);
    if (!header || header->qr) {
      spdlog::debug("dns drop from={}: {}", peer,
                    header ? "a response, not a query" : header.error().message);
      return;
    }
    auto msg = dns::parse_message(packet);
    if (!msg) {
      spdlog::debug("dns formerr from={}: {}", peer, msg.error().message);
      dns::Message bare;
      bare.header = *header;
      reply(dns::build_reply(bare, dns::rcode::formerr, {}, false, dns::kClassicUdpSize));
      return;
    }
    size_t limit = over_tcp ? dns::kMaxMessageSize : dns::udp_reply_limit(*msg);
    auto answer = [&](uint16_t rc, const std::vector<dns::Answer>& answers, bool aa) {
      reply(dns::build_reply(*msg, rc, answers, aa, limit));
    };
    if (msg->header.opcode != dns::kOpcodeQuery) return answer(dns::rcode::notimp, {}, false);
    if (msg->questions.size() != 1) return answer(dns::rcode::formerr, {}, false);
    if (msg->edns && msg->edns->version > 0) return answer(dns::rcode::badvers, {}, false);

    records.refresh();
    const auto& q = msg->questions.front();
    std::string name = dns::canonical_name(q.name);
    bool class_in = q.klass == dns::kClassIn || q.klass == dns::kClassAny;
    if (class_in) {
      std::string key;
      if (const auto* addrs = lookup(name, key)) {
        std::vector<dns::Answer> answers;
        uint32_t turn = addrs->empty() ? 0 : records.next_turn(key);
        for (size_t i = 0; i < addrs->size(); ++i) {
          const auto& a = (*addrs)[(i + turn) % addrs->size()];
          bool wanted =
              q.type == dns::type::ANY || (a.is_v4() ? q.type == dns::type::A : q.type == dns::type::AAAA);
          if (wanted) answers.push_back({a.is_v4() ? dns::type::A : dns::type::AAAA, opts.ttl, rdata_of(a)});
        }
        spdlog::debug("dns local from={} name={} type={} answers={}", peer, name, type_name(q.type),
                      answers.size());
        return answer(dns::rcode::noerror, answers, true);
      }
      if (q.type == dns::type::PTR || q.type == dns::type::ANY)
        if (auto addr = reverse_v4(name))
          if (const auto* target = records.name_of(*addr)) {
            auto rdata = dns::encode_name(*target);
            if (rdata) {
              spdlog::debug("dns local from={} name={} type=PTR answer={}", peer, name, *target);
              return answer(dns::rcode::noerror, {{dns::type::PTR, opts.ttl, std::move(*rdata)}}, true);
            }
          }
    }
    if (in_zone(name)) {
      spdlog::debug("dns local from={} name={} type={} unknown", peer, name, type_name(q.type));
      if (!class_in) return answer(dns::rcode::refused, {}, false);
      return answer(name == opts.zone ? dns::rcode::noerror : dns::rcode::nxdomain, {}, true);
    }
    forward(std::move(*msg), packet, over_tcp, peer, std::move(reply));
  }

  // A query on its way through the upstreams, one at a time, each on a fresh socket (a random
  // source port and id: answers are hard to spoof), until one answers. A truncated answer for a
  // client that asked over TCP is asked again of the same upstream over TCP.
  struct Forward : std::enable_shared_from_this<Forward> {
    std::shared_ptr<Impl> server;
    dns::Message query;
    std::string packet;  // the client's query; its id replaced per attempt
    bool over_tcp = false;
    std::string peer;
    Reply reply;
    size_t next = 0;
    uint16_t id = 0;
    udp::endpoint upstream;
    std::optional<udp::socket> sock;
    std::optional<tcp::socket> tsock;  // the retry over TCP
    std::string framed;                // its query, length-prefixed
    std::array<uint8_t, 2> tlen{};
    asio::steady_timer timer;
    std::vector<uint8_t> buf = std::vector<uint8_t>(dns::kMaxMessageSize);
    unsigned gen = 0;  // the attempt under way: handlers of earlier ones see a newer value and do nothing
    bool done = false;

    explicit Forward(std::shared_ptr<Impl> s) : server(std::move(s)), timer(server->loop) {}

    void attempt() {
      if (next >= server->opts.upstreams.size()) return finish_servfail();
      const auto& up = server->opts.upstreams[next++];
      upstream = udp::endpoint(up.address, up.port);
      boost::system::error_code ec;
      sock.emplace(server->loop);
      sock->open(upstream.protocol(), ec);
      // Connected: only the upstream's datagrams come in, and a closed port fails at once (ICMP).
      if (!ec) sock->connect(upstream, ec);
      if (ec) {
        spdlog::debug("dns forward upstream={}: {}", up.str(), ec.message());
        return attempt();
      }
      id = uint16_t(server->rng());
      packet[0] = char(id >> 8);
      packet[1] = char(id & 0xff);
      auto self = shared_from_this();
      unsigned g = ++gen;
      sock->async_send(asio::buffer(packet), [self, g](const boost::system::error_code& e, size_t) {
        if (e && !self->done && g == self->gen) self->fail(e.message());
      });
      timer.expires_after(server->opts.upstream_timeout);
      timer.async_wait([self, g](const boost::system::error_code& e) {
        if (!e && !self->done && g == self->gen) self->fail("timed out");
      });
      receive();
    }

    void receive() {
      auto self = shared_from_this();
      sock->async_receive(asio::buffer(buf), [self, g = gen](const boost::system::error_code& e, size_t n) {
        if (self->done || g != self->gen) return;
        if (e) {
          if (e != asio::error::operation_aborted) self->fail(e.message());
          return;
        }
        self->received(n);
      });
    }

    // Moves on to the next upstream.
    void fail(const std::string& why) {
      spdlog::debug("dns forward name={} upstream={}: {}", query.questions.front().name,
                    fmt::format("{}:{}", upstream.address().to_string(), upstream.port()), why);
      timer.cancel();
      close_sockets();
      attempt();
    }

    void close_sockets() {
      boost::system::error_code ignored;
      if (sock) sock->close(ignored);
      if (tsock) tsock->close(ignored);
      tsock.reset();
    }

    void retry_over_tcp() {
      close_sockets();
      auto self = shared_from_this();
      unsigned g = ++gen;
      auto stale = [self, g] { return self->done || g != self->gen; };
      tsock.emplace(server->loop);
      framed.clear();
      framed.push_back(char(packet.size() >> 8));
      framed.push_back(char(packet.size() & 0xff));
      framed += packet;
      timer.expires_after(server->opts.upstream_timeout);
      timer.async_wait([self, stale](const boost::system::error_code& e) {
        if (!e && !stale()) self->fail("timed out over TCP");
      });
      tsock->async_connect(tcp::endpoint(upstream.address(), upstream.port()),
                           [self, stale](const boost::system::error_code& e) {
                             if (stale()) return;
                             if (e) return self->fail("TCP: " + e.message());
                             asio::async_write(
                                 *self->tsock, asio::buffer(self->framed),
                                 [self, stale](const boost::system::error_code& e2, size_t) {
                                   if (stale()) return;
                                   if (e2) return self->fail("TCP: " + e2.message());
                                   asio::async_read(
                                       *self->tsock, asio::buffer(self->tlen),
                                       [self, stale](const boost::system::error_code& e3, size_t) {
                                         if (stale()) return;
                                         if (e3) return self->fail("TCP: " + e3.message());
                                         size_t n = size_t(self->tlen[0]) << 8 | self->tlen[1];
                                         asio::async_read(
                                             *self->tsock, asio::buffer(self->buf.data(), n),
                                             [self, stale](const boost::system::error_code& e4, size_t got) {
                                               if (stale()) return;
                                               if (e4) return self->fail("TCP: " + e4.message());
                                               self->received(got);
                                             });
                                       });
                                 });
                           });
    }

    void received(size_t n) {
      std::span<const uint8_t> wire(buf.data(), n);
      auto h = dns::parse_header(wire);
      // Not the answer to this query: keep waiting (over TCP, the upstream is confused: next one).
      bool ok = h && h->qr && h->id == id;
      auto m = ok ? dns::parse_message(wire) : tl::unexpected(Error{});
      ok = m && m->questions.size() == 1 &&
           dns::canonical_name(m->questions[0].name) == dns::canonical_name(query.questions[0].name) &&
           m->questions[0].type == query.questions[0].type;
      if (!ok) return tsock ? fail("a wrong answer over TCP") : receive();
      if (m->header.rcode == dns::rcode::servfail || m->header.rcode == dns::rcode::refused)
        return fail(m->header.rcode == dns::rcode::servfail ? "SERVFAIL" : "REFUSED");
      if (m->header.tc && over_tcp && !tsock) return retry_over_tcp();
      std::string answer(reinterpret_cast<const char*>(buf.data()), n);
      answer[0] = char(query.header.id >> 8);
      answer[1] = char(query.header.id & 0xff);
      size_t limit = over_tcp ? dns::kMaxMessageSize : dns::udp_reply_limit(query);
      if (answer.size() > limit) {  // an upstream that ignored the client's size: the client retries over TCP
        answer = dns::build_reply(query, m->rcode(), {}, false, limit);
        answer[2] = char(answer[2] | 0x02);
      }
      spdlog::debug("dns forwarded from={} name={} type={} rcode={} bytes={}", peer, query.questions[0].name,
                    type_name(query.questions[0].type), m->rcode(), n);
      finish(std::move(answer));
    }

    void finish_servfail() {
      spdlog::debug("dns forward name={}: no upstream answered: SERVFAIL", query.questions.front().name);
      size_t limit = over_tcp ? dns::kMaxMessageSize : dns::udp_reply_limit(query);
      finish(dns::build_reply(query, dns::rcode::servfail, {}, false, limit));
    }

    void finish(std::string answer) {
      done = true;
      timer.cancel();
      close_sockets();
      --server->forwards;
      if (!server->stopped) reply(std::move(answer));
    }
  };

  void forward(dns::Message msg, std::span<const uint8_t> packet, bool over_tcp, const std::string& peer,
               Reply reply) {
    size_t limit = over_tcp ? dns::kMaxMessageSize : dns::udp_reply_limit(msg);
    if (forwards >= opts.max_forwards) {
      spdlog::warn("dns forward name={}: {} queries already in flight: SERVFAIL", msg.questions[0].name,
                   forwards);
      return reply(dns::build_reply(msg, dns::rcode::servfail, {}, false, limit));
    }
    ++forwards;
    auto f = std::make_shared<Forward>(shared_from_this());
    f->query = std::move(msg);
    f->packet.assign(reinterpret_cast<const char*>(packet.data()), packet.size());
    f->over_tcp = over_tcp;
    f->peer = peer;
    f->reply = std::move(reply);
    f->attempt();
  }

  void receive_udp(const std::shared_ptr<UdpListener>& l) {
    auto self = shared_from_this();
    l->sock.async_receive_from(
        asio::buffer(l->buf), l->from, [self, l](const boost::system::error_code& ec, size_t n) {
          if (self->stopped || !l->sock.is_open()) return;
          if (!ec) {
            auto to = l->from;
            auto peer = fmt::format("{}:{}", to.address().to_string(), to.port());
            self->handle(std::span<const uint8_t>(l->buf.data(), n), false, peer,
                         [l, to](std::string answer) {
                           auto out = std::make_shared<std::string>(std::move(answer));
                           l->sock.async_send_to(asio::buffer(*out), to,
                                                 [out](const boost::system::error_code&, size_t) {});
                         });
          } else if (ec == asio::error::operation_aborted) {
            return;
          }
          self->receive_udp(l);  // ICMP errors of earlier sends and the like: keep serving
        });
  }

  struct TcpConn : std::enable_shared_from_this<TcpConn> {
    std::shared_ptr<Impl> server;
    tcp::socket sock;
    std::string peer;
    asio::steady_timer idle;
    std::array<uint8_t, 2> len{};
    std::vector<uint8_t> body;
    std::deque<std::string> out;
    bool writing = false;

    TcpConn(std::shared_ptr<Impl> s, tcp::socket so)
        : server(std::move(s)), sock(std::move(so)), idle(server->loop) {
      boost::system::error_code ec;
      auto ep = sock.remote_endpoint(ec);
      peer = ec ? "tcp" : fmt::format("tcp:{}:{}", ep.address().to_string(), ep.port());
    }

    void close() {
      boost::system::error_code ignored;
      idle.cancel();
      sock.close(ignored);
    }

    void read() {
      auto self = shared_from_this();
      idle.expires_after(server->opts.tcp_idle_timeout);
      idle.async_wait([self](const boost::system::error_code& e) {
        if (!e) self->close();
      });
      asio::async_read(sock, asio::buffer(len), [self](const boost::system::error_code& e, size_t) {
        if (e) return self->close();
        size_t n = size_t(self->len[0]) << 8 | self->len[1];
        if (n == 0) return self->close();
        self->body.resize(n);
        asio::async_read(self->sock, asio::buffer(self->body),
                         [self](const boost::system::error_code& e2, size_t) {
                           if (e2 || self->server->stopped) return self->close();
                           std::weak_ptr<TcpConn> weak = self;
                           self->server->handle(self->body, true, self->peer, [weak](std::string answer) {
                             if (auto c = weak.lock()) c->send(std::move(answer));
                           });
                           self->read();
                         });
      });
    }

    void send(std::string answer) {
      if (!sock.is_open() || answer.size() > dns::kMaxMessageSize) return;
      if (out.size() >= 64) return close();  // a client that sends and never reads
      std::string framed;
      framed.push_back(char(answer.size() >> 8));
      framed.push_back(char(answer.size() & 0xff));
      framed += answer;
      out.push_back(std::move(framed));
      if (!writing) write_next();
    }

    void write_next() {
      if (out.empty()) {
        writing = false;
        return;
      }
      writing = true;
      auto self = shared_from_this();
      asio::async_write(sock, asio::buffer(out.front()), [self](const boost::system::error_code& e, size_t) {
        self->out.pop_front();
        if (e) return self->close();
        self->write_next();
      });
    }
  };

  void accept(const std::shared_ptr<tcp::acceptor>& a) {
    auto self = shared_from_this();
    a->async_accept([self, a](const boost::system::error_code& ec, tcp::socket sock) {
      if (self->stopped || !a->is_open() || ec == asio::error::operation_aborted) return;
      if (!ec) {
        std::erase_if(self->conns, [](const auto& w) { return w.expired(); });
        if (self->conns.size() >= self->opts.max_tcp_connections) {
          spdlog::warn("dns tcp: {} connections open: refusing another", self->conns.size());
        } else {
          auto c = std::make_shared<TcpConn>(self, std::move(sock));
          self->conns.push_back(c);
          c->read();
        }
      }
      self->accept(a);
    });
  }

  Status start() {
    records.refresh();
    for (const auto& ep : opts.listen) {
      boost::system::error_code ec;
      auto u = std::make_shared<UdpListener>(loop);
      udp::endpoint uep(ep.address, ep.port);
      u->sock.open(uep.protocol(), ec);
      if (!ec && ep.address.is_v6()) u->sock.set_option(asio::ip::v6_only(true), ec);
      if (!ec) u->sock.bind(uep, ec);
      if (ec)
        return make_error(ErrorKind::unavailable, "DNS server: bind UDP {}: {}", ep.str(), ec.message());
      auto a = std::make_shared<tcp::acceptor>(loop);
      tcp::endpoint tep(ep.address, ep.port);
      a->open(tep.protocol(), ec);
      if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec && ep.address.is_v6()) a->set_option(asio::ip::v6_only(true), ec);
      if (!ec) a->bind(tep, ec);
      if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
      if (ec)
        return make_error(ErrorKind::unavailable, "DNS server: listen on TCP {}: {}", ep.str(), ec.message());
      udp_listeners.push_back(u);
      acceptors.push_back(a);
    }
    for (auto& u : udp_listeners) receive_udp(u);
    for (auto& a : acceptors) accept(a);
    std::vector<std::string> ups;
    for (const auto& u : opts.upstreams) ups.push_back(u.str());
    std::vector<std::string> ls;
    for (const auto& l : opts.listen) ls.push_back(l.str());
    spdlog::info("dns server listen={} zone={} upstreams={}", fmt::join(ls, ","), opts.zone,
                 ups.empty() ? std::string("none") : fmt::format("{}", fmt::join(ups, ",")));
    return {};
  }

  void stop() {
    stopped = true;
    boost::system::error_code ignored;
    for (auto& u : udp_listeners) u->sock.close(ignored);
    for (auto& a : acceptors) a->close(ignored);
    for (auto& w : conns)
      if (auto c = w.lock()) c->close();
    conns.clear();
  }
};

DnsServer::DnsServer(asio::io_context& loop, DnsServerOptions opts) {
  // An upstream that is one of our own addresses would send queries round in a loop.
  std::erase_if(opts.upstreams, [&](const DnsEndpoint& up) {
    bool ours = std::find(opts.listen.begin(), opts.listen.end(), up) != opts.listen.end();
    if (ours) spdlog::warn("dns upstream={} is this server's own address: not used", up.str());
    return ours;
  });
  impl_ = std::make_shared<Impl>(loop, std::move(opts));
}

DnsServer::~DnsServer() {
  impl_->stop();
}

Status DnsServer::start() {
  auto st = impl_->start();
  if (!st) impl_->stop();
  return st;
}

void DnsServer::stop() {
  impl_->stop();
}

}  // namespace zl::net
