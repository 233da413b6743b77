# cmake -DIN=file -DOUT=file.cpp -DNAMESPACE=ns -DFUNCTION=name -P embed_text.cmake
# Writes a C++ source whose function NAMESPACE::FUNCTION() returns IN's text as a
# std::string_view. The text goes in as raw string literals of at most 16 KiB each (a
# longer literal trips -Woverlength-strings), joined once at first use; the build stops
# if the text contains the literals' delimiter.
file(READ "${IN}" content)
set(delimiter "genx_embed")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains )${delimiter}\": cannot embed it as a raw string")
endif()
string(LENGTH "${content}" length)
set(parts "")
set(offset 0)
while(offset LESS length)
  string(SUBSTRING "${content}" ${offset} 16384 part)
  string(APPEND parts "      R\"${delimiter}(${part})${delimiter}\",\n")
  math(EXPR offset "${offset} + 16384")
endwhile()
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN} by cmake/embed_text.cmake: edit that file, not this one.\n"
  "#include <string>\n"
  "#include <string_view>\n"
  "namespace ${NAMESPACE} {\n"
  "std::string_view ${FUNCTION}() {\n"
  "  static const std::string text = [] {\n"
  "    constexpr std::string_view kParts[] = {\n${parts}    };\n"
  "    std::string joined;\n"
  "    for (auto part : kParts) joined += part;\n"
  "    return joined;\n"
  "  }();\n"
  "  return text;\n"
  "}\n"
  "}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
