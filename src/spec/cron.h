// Cron schedules for `rtype: cron` services, in the syntax of ZLayer's spec (the Rust `cron`
// crate's): "sec min hour day-of-month month day-of-week [year]", evaluated in UTC.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zl::spec {

class CronSchedule {
 public:
  // Seven fields (six: the year is then "*"), separated by spaces:
  //   second 0-59, minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
  //   day-of-week 1-7 or SUN-SAT (1 = Sunday, as in the reference; 0 is refused), year 1970-2100.
  // Each field is "*" or a comma list of N, A-B, */S, A-B/S or A/S (A up to the field's maximum);
  // names (3 letters or in full, any case) go wherever a number does. "?" means "*" in the two day
  // fields. A day must match both day fields. Shorthands: @yearly, @monthly, @weekly (Sundays),
  // @daily, @hourly. Anything else -> invalid_argument naming the field and what is wrong.
  static Result<CronSchedule> parse(std::string_view expression);

  // The first firing strictly after `after` (whole seconds, UTC); nullopt when there is none left
  // before the end of 2100 (the year field is exhausted, or the date never exists, like 30 FEB).
  std::optional<std::chrono::sys_seconds> next_after(std::chrono::system_clock::time_point after) const;

  // The expression as given (outer spaces trimmed).
  const std::string& expression() const { return expression_; }

  friend bool operator==(const CronSchedule& a, const CronSchedule& b) {
    return a.seconds_ == b.seconds_ && a.minutes_ == b.minutes_ && a.hours_ == b.hours_ &&
           a.days_ == b.days_ && a.months_ == b.months_ && a.weekdays_ == b.weekdays_ && a.years_ == b.years_;
  }

  static constexpr int kFirstYear = 1970, kLastYear = 2100;

 private:
  std::string expression_;
  std::bitset<60> seconds_, minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<8> weekdays_;  // 1..7, 1 = Sunday
  std::bitset<131> years_;   // year - 1970
};

}  // namespace zl::spec
