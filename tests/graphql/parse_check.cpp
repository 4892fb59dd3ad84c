// Standalone driver of the pure C++ GraphQL parser, for the randomized parser test
// (tests/graphql_fuzz.sh builds it with sanitizers): reads documents separated by a NUL byte
// from stdin and prints one line per document, "ok" or "error LINE:COLUMN MESSAGE". Each
// document that parses is also validated, so the sanitizers watch the validator too.
#include <iostream>
#include <iterator>
#include <string>

#include "graphql/parser.hpp"
#include "graphql/validate.hpp"

int main() {
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  size_t start = 0;
  while (start < input.size()) {
    size_t end = input.find('\0', start);
    if (end == std::string::npos)
      end = input.size();
    std::string_view doc(input.data() + start, end - start);
    try {
      pgi::gql::Document parsed = pgi::gql::parse_document(doc);
      pgi::gql::validate(pgi::gql::Schema::directus_system(), parsed);
      std::cout << "ok\n";
    } catch (const pgi::gql::SyntaxError &e) {
      std::string message = e.what();
      for (char &c : message)
        if (c == '\n')
          c = ' ';
      std::cout << "error " << e.location().line << ":" << e.location().column << " " << message
                << "\n";
    }
    start = end + 1;
  }
  return 0;
}
