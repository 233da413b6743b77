#include "api/fleet_query.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "util/url.hpp"

namespace genx::api {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<long long> to_integer(const std::string& s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::variant<ChargerQuery, std::string> parse_charger_query(const std::map<std::string, std::string>& params) {
  ChargerQuery query;
  query.limit = kDefaultPageSize;
  if (auto it = params.find("limit"); it != params.end()) {
    auto v = to_integer(it->second);
    if (!v || *v < 1) return std::string("limit: expected a positive integer (at most 1000; more is capped)");
    query.limit = static_cast<int>(std::min<long long>(*v, kMaxPageSize));
  }
  if (auto it = params.find("offset"); it != params.end()) {
    auto v = to_integer(it->second);
    if (!v || *v < 0 || *v > 100'000'000) return std::string("offset: expected a non-negative integer");
    query.offset = static_cast<int>(*v);
  }
  if (auto it = params.find("sort"); it != params.end() && !it->second.empty()) {
    if (it->second == "id") {
      query.sort = ChargerSort::kId;
    } else if (it->second == "lastSeen") {
      query.sort = ChargerSort::kLastSeen;
    } else if (it->second == "status") {
      query.sort = ChargerSort::kStatus;
    } else {
      return std::string("sort: expected id, lastSeen or status");
    }
  }
  if (auto it = params.find("status"); it != params.end() && !it->second.empty()) {
    const std::string& word = it->second;
    const bool letters = word.size() <= 40 && std::all_of(word.begin(), word.end(), [](char c) {
                           return std::isalpha(static_cast<unsigned char>(c)) != 0;
                         });
    if (!letters) {
      return std::string("status: expected online, offline, Unknown or a status word such as Faulted");
    }
    query.status = word;
    for (std::string_view known : {"online", "offline", "Unknown"}) {
      if (iequals(word, known)) query.status = std::string(known);
    }
    for (std::string_view known : kChargerStatuses) {
      if (iequals(word, known)) query.status = std::string(known);
    }
  }
  if (auto it = params.find("q"); it != params.end()) {
    std::string q = it->second;
    const auto first = q.find_first_not_of(" \t");
    const auto last = q.find_last_not_of(" \t");
    q = first == std::string::npos ? std::string() : q.substr(first, last - first + 1);
    if (q.size() > 100) return std::string("q: at most 100 characters");
    if (!q.empty()) query.q = std::move(q);
  }
  return query;
}

std::vector<std::pair<std::string, std::string>> paging_headers(std::string_view path,
                                                               const std::map<std::string, std::string>& params,
                                                               int limit, int offset, std::int64_t total) {
  std::vector<std::pair<std::string, std::string>> headers{{"X-Total-Count", std::to_string(total)}};
  auto link_to = [&](std::int64_t to_offset) {
    std::string url(path);
    char sep = '?';
    auto add = [&](const std::string& key, const std::string& value) {
      url += sep + util::url_encode(key) + "=" + util::url_encode(value);
      sep = '&';
    };
    for (const auto& [key, value] : params) {
      if (key != "offset" && key != "limit") add(key, value);
    }
    add("limit", std::to_string(limit));
    add("offset", std::to_string(to_offset));
    return "<" + url + ">";
  };
  std::string link;
  if (static_cast<std::int64_t>(offset) + limit < total) link = link_to(offset + limit) + "; rel=\"next\"";
  if (offset > 0) {
    if (!link.empty()) link += ", ";
    link += link_to(std::max(0, offset - limit)) + "; rel=\"prev\"";
  }
  if (!link.empty()) headers.emplace_back("Link", link);
  return headers;
}

}  // namespace genx::api
