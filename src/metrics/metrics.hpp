#pragma once
// Process metrics in the Prometheus text exposition format (version 0.0.4).
//
// A Registry owns metric families (counter, gauge, histogram), each with a fixed list
// of label names; a family hands out one series per distinct label-value tuple. Series
// references stay valid for the registry's lifetime, so hot paths look a series up once
// and keep the reference.
//
// Threading: every method is thread-safe. Counter/gauge updates are lock-free atomics;
// histogram observations and series creation take a short mutex. render() may run on
// any thread (an HTTP scrape) while other threads update.
//
// Callback gauges (add_callback_gauge) are evaluated during render(): use them for
// values another object already keeps (connected chargers, broker counters).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace genx::metrics {

using Labels = std::vector<std::string>;  // values, in the family's label-name order

class Counter {
 public:
  void inc(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> buckets_;  // non-cumulative, last = +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Default buckets for latencies in seconds: 0.5 ms .. 10 s.
const std::vector<double>& latency_buckets();

template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
        make_(std::move(make)) {}
  // The series for these label values (created on first use). Throws
  // std::invalid_argument when the number of values differs from the label names.
  T& with(const Labels& values = {});

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Snapshot of (label values, series) for rendering.
  std::vector<std::pair<Labels, const T*>> series() const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mutex_;
  std::map<Labels, std::unique_ptr<T>> series_;
};

class Registry {
 public:
  // Registering a name twice returns the existing family (the label names must match).
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names = {},
                               std::vector<double> bounds = latency_buckets());
  // A gauge (or counter, when is_counter) whose value is read at render time.
  void add_callback(const std::string& name, const std::string& help,
                    std::function<double()> read, bool is_counter = false);

  std::string render() const;

 private:
  struct Callback {
    std::string name, help;
    std::function<double()> read;
    bool is_counter;
  };
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_;
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<Callback> callbacks_;
};

// The process-wide registry every role reports into.
Registry& registry();

// Label value escaping per the exposition format (backslash, quote, newline).
std::string escape_label_value(const std::string& value);

}  // namespace genx::metrics
