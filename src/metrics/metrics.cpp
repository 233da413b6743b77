#include "metrics/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace genx::metrics {
namespace {

void atomic_add(std::atomic<double>& a, double by) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {
  }
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string label_set(const std::vector<std::string>& names, const Labels& values,
                      const std::string& extra_name = {}, const std::string& extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

std::string escape_help(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + escape_help(help) + "\n";
  out += "# TYPE " + name + " " + type + "\n";
}

}  // namespace

void Counter::inc(double by) {
  if (by < 0) throw std::invalid_argument("a counter only goes up");
  atomic_add(value_, by);
}

void Gauge::inc(double by) { atomic_add(value_, by); }

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  buckets_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double v) {
  auto index = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  std::lock_guard lock(mutex_);
  ++buckets_[index];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  std::lock_guard lock(mutex_);
  Snapshot s;
  std::uint64_t running = 0;
  for (auto b : buckets_) {
    running += b;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

template <typename T>
T& Family<T>::with(const Labels& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": expected " +
                                std::to_string(label_names_.size()) + " label values");
  }
  std::lock_guard lock(mutex_);
  auto& slot = series_[values];
  if (!slot) slot = make_();
  return *slot;
}

template <typename T>
std::vector<std::pair<Labels, const T*>> Family<T>::series() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<Labels, const T*>> out;
  for (const auto& [labels, s] : series_) out.emplace_back(labels, s.get());
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  auto& slot = counters_[name];
  if (!slot) {
    slot = std::make_unique<Family<Counter>>(name, help, std::move(label_names),
                                             [] { return std::make_unique<Counter>(); });
  }
  return *slot;
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  auto& slot = gauges_[name];
  if (!slot) {
    slot = std::make_unique<Family<Gauge>>(name, help, std::move(label_names),
                                           [] { return std::make_unique<Gauge>(); });
  }
  return *slot;
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names,
                                       std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  auto& slot = histograms_[name];
  if (!slot) {
    slot = std::make_unique<Family<Histogram>>(
        name, help, std::move(label_names),
        [bounds] { return std::make_unique<Histogram>(bounds); });
  }
  return *slot;
}

void Registry::add_callback(const std::string& name, const std::string& help,
                            std::function<double()> read, bool is_counter) {
  std::lock_guard lock(mutex_);
  callbacks_.push_back({name, help, std::move(read), is_counter});
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : counters_) {
    header(out, name, family->help(), "counter");
    for (const auto& [labels, c] : family->series()) {
      out += name + label_set(family->label_names(), labels) + " " + format_value(c->value()) + "\n";
    }
  }
  for (const auto& [name, family] : gauges_) {
    header(out, name, family->help(), "gauge");
    for (const auto& [labels, g] : family->series()) {
      out += name + label_set(family->label_names(), labels) + " " + format_value(g->value()) + "\n";
    }
  }
  for (const auto& [name, family] : histograms_) {
    header(out, name, family->help(), "histogram");
    for (const auto& [labels, h] : family->series()) {
      auto snap = h->snapshot();
      const auto& bounds = h->bounds();
      for (std::size_t i = 0; i <= bounds.size(); ++i) {
        std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
        out += name + "_bucket" + label_set(family->label_names(), labels, "le", le) + " " +
               std::to_string(snap.cumulative[i]) + "\n";
      }
      std::string ls = label_set(family->label_names(), labels);
      out += name + "_sum" + ls + " " + format_value(snap.sum) + "\n";
      out += name + "_count" + ls + " " + std::to_string(snap.count) + "\n";
    }
  }
  for (const auto& cb : callbacks_) {
    double v = 0;
    try {
      v = cb.read();
    } catch (...) {
      v = std::nan("");
    }
    header(out, cb.name, cb.help, cb.is_counter ? "counter" : "gauge");
    out += cb.name + " " + format_value(v) + "\n";
  }
  return out;
}

Registry& registry() {
  static Registry instance;
  return instance;
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace genx::metrics
