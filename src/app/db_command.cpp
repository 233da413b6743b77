#include "app/db_command.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "store/copy.hpp"
#include "store/postgres/postgres_roles.hpp"

namespace genx::app {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}
}  // namespace

int run_db_copy(const std::map<std::string, std::string>& own, bool force) {
  const auto from = own.find("--from");
  const auto to = own.find("--to");
  if (from == own.end() || to == own.end() || from->second.empty() || to->second.empty()) {
    std::fprintf(stderr,
                 "genx db copy: both --from URL and --to URL are needed, e.g. "
                 "genx db copy --from sqlite://var/genx.db --to postgresql://genx@db.example:5432/genx\n");
    return 2;
  }
  store::CopyOptions options;
  options.replace = force;
  options.password_file = env("DATABASE_PASSWORD_FILE");
  options.progress = [](const std::string& line) { std::fprintf(stderr, "genx db copy: %s\n", line.c_str()); };
  std::printf("copying %s -> %s\n", store::redact_database_url(from->second).c_str(),
              store::redact_database_url(to->second).c_str());
  std::fflush(stdout);
  store::CopyReport report;
  try {
    report = store::copy_database(from->second, to->second, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genx db copy: %s\n", e.what());
    std::fprintf(stderr, "genx db copy: the target is unchanged\n");
    return 1;
  }
  std::printf("%-28s %12s %12s %10s\n", "table", "source rows", "target rows", "next id");
  std::int64_t total = 0;
  for (const auto& t : report.tables) {
    std::printf("%-28s %12" PRId64 " %12" PRId64 " %10s\n", t.name.c_str(), t.source_rows, t.target_rows,
                t.next_id > 0 ? std::to_string(t.next_id).c_str() : "-");
    total += t.target_rows;
  }
  if (report.replaced_rows > 0) {
    std::printf("replaced %" PRId64 " rows the target held (--force)\n", report.replaced_rows);
  }
  std::printf("copied %" PRId64 " rows in %zu tables at schema version %d; every table's row count matches\n",
              total, report.tables.size(), report.schema_version);
  return 0;
}

int run_db_grant(const Config& config, const std::vector<std::string>& positional) {
  if (positional.size() != 2) {
    std::fprintf(stderr, "genx db grant: usage: genx db grant read|api|worker ROLE (PostgreSQL, as the schema owner)\n");
    return 2;
  }
  if (config.database_url.rfind("postgres", 0) != 0) {
    std::fprintf(stderr, "genx db grant: DATABASE_URL is not a PostgreSQL database (SQLite has no roles)\n");
    return 2;
  }
  try {
    for (const auto& s : store::grant_postgres_role(config.database_url, env("DATABASE_PASSWORD_FILE"),
                                                    positional[0], positional[1])) {
      std::printf("%s;\n", s.c_str());
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "genx db grant: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genx db grant: %s\n", e.what());
    return 1;
  }
  std::printf("granted %s to %s\n", positional[0].c_str(), positional[1].c_str());
  return 0;
}

}  // namespace genx::app
