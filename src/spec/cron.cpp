// Cron expressions: each field becomes a bit set; the next firing is found by moving a UTC time
// forward to the next year, month, day, hour, minute and second in the sets, in that order.
#include "spec/cron.h"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace zl::spec {
namespace {

using namespace std::chrono;

struct Name {
  std::string_view name;
  int value;
};

const std::vector<Name> kMonthNames = {
    {"JAN", 1},     {"FEB", 2},       {"MAR", 3},      {"APR", 4},       {"MAY", 5},       {"JUN", 6},
    {"JUL", 7},     {"AUG", 8},       {"SEP", 9},      {"OCT", 10},      {"NOV", 11},      {"DEC", 12},
    {"JANUARY", 1}, {"FEBRUARY", 2},  {"MARCH", 3},    {"APRIL", 4},     {"JUNE", 6},      {"JULY", 7},
    {"AUGUST", 8},  {"SEPTEMBER", 9}, {"OCTOBER", 10}, {"NOVEMBER", 11}, {"DECEMBER", 12},
};
const std::vector<Name> kDayNames = {
    {"SUN", 1},      {"MON", 2},    {"TUE", 3},    {"WED", 4},      {"THU", 5},  {"FRI", 6},
    {"SAT", 7},      {"SUNDAY", 1}, {"MONDAY", 2}, {"TUESDAY", 3},  {"TUES", 3}, {"WEDNESDAY", 4},
    {"THURSDAY", 5}, {"THURS", 5},  {"FRIDAY", 6}, {"SATURDAY", 7},
};

struct FieldDef {
  std::string_view name;
  int min, max;
  const std::vector<Name>* names;
  std::string_view names_hint;  // for errors
  bool question_mark;           // "?" allowed (means "*")
};

const std::array<FieldDef, 7> kFields = {
    FieldDef{"second", 0, 59, nullptr, "", false},
    FieldDef{"minute", 0, 59, nullptr, "", false},
    FieldDef{"hour", 0, 23, nullptr, "", false},
    FieldDef{"day-of-month", 1, 31, nullptr, "", true},
    FieldDef{"month", 1, 12, &kMonthNames, "JAN-DEC", false},
    FieldDef{"day-of-week", 1, 7, &kDayNames, "SUN-SAT", true},
    FieldDef{"year", CronSchedule::kFirstYear, CronSchedule::kLastYear, nullptr, "", false},
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A number or a name of the field -> its value, or an error sentence.
Result<int> parse_value(std::string_view text, const FieldDef& def) {
  if (text.empty()) return invalid_argument("a value is missing");
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    int v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size())
      return invalid_argument("\"{}\" is not a number", text);
    if (v < def.min || v > def.max) {
      if (def.names == &kDayNames) return invalid_argument("{} is outside 1-7 (1 = SUN ... 7 = SAT)", v);
      return invalid_argument("{} is outside {}-{}", v, def.min, def.max);
    }
    return v;
  }
  if (def.names) {
    std::string up = upper(text);
    for (const auto& n : *def.names)
      if (up == n.name) return n.value;
    return invalid_argument("\"{}\" is not a {} name ({})", text, def.name, def.names_hint);
  }
  return invalid_argument("\"{}\" is not a number", text);
}

// One field ("*/5", "1,15,30", "MON-FRI", "10-40/10") -> the values it allows.
Result<std::vector<int>> parse_field(std::string_view text, const FieldDef& def) {
  std::vector<int> values;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return invalid_argument("an empty item in the list");

    std::string_view base = item;
    int step = 1;
    bool stepped = false;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      base = item.substr(0, slash);
      std::string_view s = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return invalid_argument("the step \"{}\" is not a number", s);
      if (step < 1) return invalid_argument("a step must be at least 1");
      stepped = true;
    }
    int lo = def.min, hi = def.max;
    if (base == "*" || (base == "?" && def.question_mark)) {
      // the whole range
    } else if (base == "?") {
      return invalid_argument("\"?\" is only allowed in the day-of-month and day-of-week fields");
    } else if (auto dash = base.find('-'); dash != std::string_view::npos && dash > 0) {
      ZL_TRY_ASSIGN(lo, parse_value(base.substr(0, dash), def));
      ZL_TRY_ASSIGN(hi, parse_value(base.substr(dash + 1), def));
      if (hi < lo) return invalid_argument("the range \"{}\" goes backwards", base);
    } else {
      ZL_TRY_ASSIGN(lo, parse_value(base, def));
      if (!stepped) hi = lo;  // "A/S" runs from A to the maximum
    }
    for (int v = lo; v <= hi; v += step) values.push_back(v);

    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return values;
}

template <size_t N>
void set_bits(std::bitset<N>& bits, const std::vector<int>& values, int offset) {
  for (int v : values) bits.set(static_cast<size_t>(v - offset));
}

std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<CronSchedule> CronSchedule::parse(std::string_view expression) {
  std::string_view expr = trim(expression);
  auto bad = [&](std::string_view why) {
    return invalid_argument("invalid cron schedule \"{}\": {}", expr, why);
  };
  std::string_view body = expr;
  if (expr.starts_with('@')) {
    if (expr == "@yearly")
      body = "0 0 0 1 1 * *";
    else if (expr == "@monthly")
      body = "0 0 0 1 * * *";
    else if (expr == "@weekly")
      body = "0 0 0 * * SUN *";
    else if (expr == "@daily")
      body = "0 0 0 * * * *";
    else if (expr == "@hourly")
      body = "0 0 * * * * *";
    else
      return bad("unknown shorthand (use @yearly, @monthly, @weekly, @daily or @hourly)");
  }
  auto fields = split_fields(body);
  if (fields.size() != 6 && fields.size() != 7)
    return bad(fmt::format(
        "expected 7 fields (second minute hour day-of-month month day-of-week year), got {}", fields.size()));
  if (fields.size() == 6) fields.push_back("*");

  CronSchedule out;
  out.expression_ = std::string(expr);
  for (size_t i = 0; i < fields.size(); ++i) {
    const FieldDef& def = kFields[i];
    auto values = parse_field(fields[i], def);
    if (!values) return bad(fmt::format("{} field \"{}\": {}", def.name, fields[i], values.error().message));
    switch (i) {
      case 0:
        set_bits(out.seconds_, *values, 0);
        break;
      case 1:
        set_bits(out.minutes_, *values, 0);
        break;
      case 2:
        set_bits(out.hours_, *values, 0);
        break;
      case 3:
        set_bits(out.days_, *values, 0);
        break;
      case 4:
        set_bits(out.months_, *values, 0);
        break;
      case 5:
        set_bits(out.weekdays_, *values, 0);
        break;
      case 6:
        set_bits(out.years_, *values, kFirstYear);
        break;
    }
  }
  return out;
}

std::optional<sys_seconds> CronSchedule::next_after(system_clock::time_point after) const {
  sys_seconds t = floor<seconds>(after) + seconds{1};
  const sys_seconds first = sys_days{year{kFirstYear} / January / 1};
  if (t < first) t = first;
  // Every step moves t forward to the start of the next candidate unit, so the loop ends: at
  // most a few hundred thousand steps over the 131 years the year field spans.
  while (true) {
    const sys_days day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{t - day};
    const int y = static_cast<int>(ymd.year());
    const unsigned mo = static_cast<unsigned>(ymd.month()), d = static_cast<unsigned>(ymd.day());
    const auto h = static_cast<size_t>(hms.hours().count()), mi = static_cast<size_t>(hms.minutes().count()),
               s = static_cast<size_t>(hms.seconds().count());
    if (y > kLastYear) return std::nullopt;
    if (!years_.test(static_cast<size_t>(y - kFirstYear))) {
      t = sys_days{year{y + 1} / January / 1};
    } else if (!months_.test(mo)) {
      t = sys_days{ymd.year() / ymd.month() / 1 + months{1}};
    } else if (!days_.test(d) || !weekdays_.test(weekday{day}.c_encoding() + 1)) {
      t = day + days{1};
    } else if (!hours_.test(h)) {
      t = day + hours{h + 1};
    } else if (!minutes_.test(mi)) {
      t = day + hours{h} + minutes{mi + 1};
    } else if (!seconds_.test(s)) {
      t = day + hours{h} + minutes{mi} + seconds{s + 1};
    } else {
      return t;
    }
  }
}

}  // namespace zl::spec
