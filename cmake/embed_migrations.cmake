# Embeds a backend's versioned migration files (NNNN_name.sql) into a C++ source file,
# so an installed genx needs no extra files. Run by the build (cmake -P) with:
#   DIR     the migrations folder      OUT  the .cpp to write
#   NS      the C++ namespace          (defines `kMigrations`, `kMigrationCount` and
#                                       `kLatestVersion`)
# The version is the file name's number; versions strictly increase. Gaps are allowed:
# numbers are handed out to branches in parallel, and a missing one arrives with its
# merge (the runner applies every version not yet recorded, not only the newer ones).
file(GLOB files RELATIVE "${DIR}" "${DIR}/*.sql")
list(SORT files)
set(body "")
set(entries 0)
set(expected 1)
set(latest 0)
foreach(name IN LISTS files)
  if(NOT name MATCHES "^([0-9]+)_[a-z0-9_]+\\.sql$")
    message(FATAL_ERROR "migration file name ${name} is not NNNN_name.sql")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  if(version LESS expected)
    message(FATAL_ERROR "migrations in ${DIR}: version ${version} repeats or goes back (${name})")
  endif()
  math(EXPR expected "${version} + 1")
  set(latest ${version})
  math(EXPR entries "${entries} + 1")
  file(READ "${DIR}/${name}" sql)
  if(sql MATCHES "\\)genx_sql\"")
    message(FATAL_ERROR "${name} contains the raw-string terminator )genx_sql\"")
  endif()
  string(APPEND body "    {${version}, \"${name}\", R\"genx_sql(${sql})genx_sql\"},\n")
endforeach()
set(count ${entries})
set(text "// Generated from ${DIR} by cmake/embed_migrations.cmake: do not edit.\n#include \"store/migration.hpp\"\n\nnamespace ${NS} {\n\n// extern: a namespace-scope const would have internal linkage.\nextern const store::Migration kMigrations[];\nextern const int kMigrationCount;\nextern const int kLatestVersion;\n\nconst store::Migration kMigrations[] = {\n${body}};\nconst int kMigrationCount = ${count};\nconst int kLatestVersion = ${latest};\n\n}  // namespace ${NS}\n")
file(WRITE "${OUT}" "${text}")
