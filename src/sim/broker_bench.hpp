#pragma once
// `genx bench-broker`: the limit GenX is measured against — RabbitMQ alone on this
// machine with the settings GenX uses (persistent messages to a durable priority queue,
// publisher confirms, manual acks; replies non-persistent, confirmed, consumed no-ack
// from an exclusive queue), through the same BrokerClient.
//
// One-way: a publisher keeps --inflight messages unconfirmed, a consumer acks each one;
// figure = messages consumed and acked per second. Request-reply: a requester keeps
// --inflight requests outstanding, --responders consumers (prefetch --prefetch, like
// the ocpp-workers) answer each request and ack it after the reply is confirmed;
// figure = round trips per second. Queues are uniquely named and expire when unused.
// Only loopback brokers are accepted. Prints a table; --json FILE writes the figures.
#include <string>
#include <vector>

namespace genx::sim {

int run_broker_bench_command(const std::vector<std::string>& args);

}  // namespace genx::sim
