#pragma once
// genx db copy: moves an installation's data from one database to another (SQLite to
// PostgreSQL, and back; docs/operations.md "PostgreSQL operations").
//
// - The source must be at this build's schema version (it is never changed: it is read
//   in one snapshot). The target is migrated to that version first.
// - The target must hold no rows (schema_migrations aside) unless replace is set; then
//   its rows are removed in the same transaction that writes the copy.
// - Everything is written in ONE transaction of the target: a failed copy leaves the
//   target as it was, so running the same copy again is always safe; with replace, the
//   same copy run twice leaves the same target.
// - Before committing, the rows of every table are counted on both sides; any
//   difference rolls the copy back (CopyError).
// - Id sequences: the target's next id of every table with an id column is above every
//   copied id and at least the source's next id (a new transaction never reuses an id).
// Tables are copied column by column by name, values as text (the backends' schemas are
// twins: BIGINT/INTEGER, TEXT, DOUBLE PRECISION/REAL). A table this build does not know
// on either side is an error, not a silent omission.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace genx::store {

struct CopyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CopyOptions {
  bool replace = false;            // --force: the target may hold rows; they are replaced
  std::string password_file;       // DATABASE_PASSWORD_FILE for the PostgreSQL side(s)
  std::function<void(const std::string&)> progress;  // one line per table as it is copied
};

struct CopiedTable {
  std::string name;
  std::int64_t source_rows = 0;
  std::int64_t target_rows = 0;
  std::int64_t next_id = 0;  // the target's next id after the copy; 0: no id column
};

struct CopyReport {
  int schema_version = 0;
  std::vector<CopiedTable> tables;  // in copy order
  std::int64_t replaced_rows = 0;   // rows the target held before (replace only)
};

// Throws CopyError (bad URL, source behind, non-empty target, count mismatch, unknown
// table) or std::runtime_error / TransientStoreError from the databases.
CopyReport copy_database(const std::string& from_url, const std::string& to_url, const CopyOptions& options);

// url with any password removed (for printing).
std::string redact_database_url(const std::string& url);

}  // namespace genx::store
