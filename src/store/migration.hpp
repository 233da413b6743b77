#pragma once
// A schema migration: versioned .sql files per backend (store/sqlite/migrations,
// store/postgres/migrations), embedded into the binary at build time
// (cmake/embed_migrations.cmake). Never edit one that has shipped; add the next.
namespace genx::store {

struct Migration {
  int version;
  const char* name;  // the file name
  const char* sql;
};

}  // namespace genx::store
