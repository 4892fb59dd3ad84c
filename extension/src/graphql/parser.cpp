#include "graphql/parser.hpp"

#include <cstring>

namespace pgi::gql {

// --- type references and the small shared helpers of the syntax tree ---------------------

namespace {
TypeRefPtr make_type(TypeRef::Kind kind, std::string name, TypeRefPtr of, Location loc) {
  auto t = std::make_shared<TypeRef>();
  t->kind = kind;
  t->name = std::move(name);
  t->of = std::move(of);
  t->loc = loc;
  return t;
}
}  // namespace

TypeRefPtr TypeRef::named(std::string name, Location loc) {
  return make_type(kNamed, std::move(name), nullptr, loc);
}
TypeRefPtr TypeRef::list(TypeRefPtr of, Location loc) {
  return make_type(kList, {}, std::move(of), loc);
}
TypeRefPtr TypeRef::non_null(TypeRefPtr of, Location loc) {
  return make_type(kNonNull, {}, std::move(of), loc);
}

const std::string &TypeRef::base_name() const {
  const TypeRef *t = this;
  while (t->kind != kNamed)
    t = t->of.get();
  return t->name;
}

std::string TypeRef::to_string() const {
  switch (kind) {
    case kNamed:
      return name;
    case kList:
      return "[" + of->to_string() + "]";
    case kNonNull:
      return of->to_string() + "!";
  }
  return name;
}

bool same_type(const TypeRef &a, const TypeRef &b) {
  if (a.kind != b.kind)
    return false;
  if (a.kind == TypeRef::kNamed)
    return a.name == b.name;
  return same_type(*a.of, *b.of);
}

const char *operation_keyword(OperationDefinition::Kind kind) {
  switch (kind) {
    case OperationDefinition::kQuery:
      return "query";
    case OperationDefinition::kMutation:
      return "mutation";
    case OperationDefinition::kSubscription:
      return "subscription";
  }
  return "query";
}

// --- the parser ---------------------------------------------------------------------------

Document parse_document(std::string_view source, const ParseLimits &limits) {
  Parser parser(source, limits);
  return parser.parse_executable_document();
}

Parser::Parser(std::string_view source, const ParseLimits &limits)
    : lexer_(source), limits_(limits) {
  if (source.size() > limits.max_bytes)
    lexer_.fail(limits.max_bytes, "Document is larger than " + std::to_string(limits.max_bytes) +
                                      " bytes. Parsing aborted.");
  lexer_.advance();  // from <SOF> to the first token
}

void Parser::advance() {
  const Token &token = lexer_.advance();
  if (token.kind != TokenKind::kEof && ++tokens_ > limits_.max_tokens)
    lexer_.fail(token.start, "Document contains more than " + std::to_string(limits_.max_tokens) +
                                 " tokens. Parsing aborted.");
}

void Parser::enter(const Token &at) {
  if (++depth_ > limits_.max_depth)
    lexer_.fail(at.start, "Document is nested deeper than " + std::to_string(limits_.max_depth) +
                              " levels. Parsing aborted.");
}

bool Parser::peek_keyword(const char *keyword) const {
  return peek(TokenKind::kName) && token().value == keyword;
}

Token Parser::expect(TokenKind kind) {
  if (token().kind != kind)
    lexer_.fail(token().start, "Expected " + token_kind_description(kind) + ", found " +
                                   token_description(token()) + ".");
  Token t = token();
  advance();
  return t;
}

bool Parser::expect_optional(TokenKind kind) {
  if (token().kind != kind)
    return false;
  advance();
  return true;
}

void Parser::expect_keyword(const char *keyword) {
  if (!peek_keyword(keyword))
    lexer_.fail(token().start, std::string("Expected \"") + keyword + "\", found " +
                                   token_description(token()) + ".");
  advance();
}

bool Parser::expect_optional_keyword(const char *keyword) {
  if (!peek_keyword(keyword))
    return false;
  advance();
  return true;
}

void Parser::unexpected(const Token &token) const {
  lexer_.fail(token.start, "Unexpected " + token_description(token) + ".");
}

std::string Parser::parse_name(Location *loc) {
  Token t = expect(TokenKind::kName);
  if (loc != nullptr)
    *loc = t.loc;
  return std::move(t.value);
}

std::string Parser::parse_optional_description() {
  if (!peek(TokenKind::kString) && !peek(TokenKind::kBlockString))
    return {};
  Token t = token();
  advance();
  return std::move(t.value);
}

Document Parser::parse_executable_document() {
  Document doc;
  if (peek(TokenKind::kEof))
    unexpected();
  do {
    if (peek(TokenKind::kBraceL)) {
      doc.order.push_back({true, doc.operations.size()});
      doc.operations.push_back(parse_operation_definition());
      continue;
    }
    // graphql-js accepts a description before an operation or fragment (a later draft of
    // the specification); so do we, and ignore it.
    bool described = peek(TokenKind::kString) || peek(TokenKind::kBlockString);
    if (described) {
      Token description = token();
      advance();
      if (peek(TokenKind::kBraceL))
        lexer_.fail(description.start,
                    "Unexpected description, descriptions are not supported on shorthand "
                    "queries.");
      if (!peek_keyword("query") && !peek_keyword("mutation") && !peek_keyword("subscription") &&
          !peek_keyword("fragment")) {
        if (peek(TokenKind::kName))
          lexer_.fail(description.start,
                      "Unexpected description, only GraphQL definitions support descriptions.");
        unexpected();
      }
    }
    if (peek_keyword("query") || peek_keyword("mutation") || peek_keyword("subscription")) {
      doc.order.push_back({true, doc.operations.size()});
      doc.operations.push_back(parse_operation_definition());
    } else if (peek_keyword("fragment")) {
      doc.order.push_back({false, doc.fragments.size()});
      doc.fragments.push_back(parse_fragment_definition());
    } else {
      // Type system definitions are not executable: this service only runs requests.
      unexpected();
    }
  } while (!peek(TokenKind::kEof));
  return doc;
}

OperationDefinition Parser::parse_operation_definition() {
  OperationDefinition op;
  op.loc = token().loc;
  if (peek(TokenKind::kBraceL)) {
    op.kind = OperationDefinition::kQuery;
    op.selection_set = parse_selection_set();
    return op;
  }
  Token keyword = expect(TokenKind::kName);
  if (keyword.value == "query")
    op.kind = OperationDefinition::kQuery;
  else if (keyword.value == "mutation")
    op.kind = OperationDefinition::kMutation;
  else if (keyword.value == "subscription")
    op.kind = OperationDefinition::kSubscription;
  else
    unexpected(keyword);
  if (peek(TokenKind::kName))
    op.name = parse_name(&op.name_loc);
  if (expect_optional(TokenKind::kParenL)) {
    do {
      op.variables.push_back(parse_variable_definition());
    } while (!expect_optional(TokenKind::kParenR));
  }
  op.directives = parse_directives(false);
  op.selection_set = parse_selection_set();
  return op;
}

VariableDefinition Parser::parse_variable_definition() {
  VariableDefinition var;
  parse_optional_description();  // a later draft's variable descriptions, as graphql-js
  Token dollar = expect(TokenKind::kDollar);
  var.loc = dollar.loc;
  var.name = parse_name(&var.name_loc);
  expect(TokenKind::kColon);
  var.type = parse_type_reference();
  if (expect_optional(TokenKind::kEquals)) {
    var.has_default = true;
    var.default_value = parse_value(true);
  }
  var.directives = parse_directives(true);
  return var;
}

SelectionSet Parser::parse_selection_set() {
  SelectionSet set;
  set.loc = token().loc;
  enter(token());
  expect(TokenKind::kBraceL);
  do {
    set.selections.push_back(parse_selection());
  } while (!expect_optional(TokenKind::kBraceR));
  leave();
  return set;
}

Selection Parser::parse_selection() {
  Selection sel;
  sel.loc = token().loc;
  if (expect_optional(TokenKind::kSpread)) {
    bool has_type_condition = false;
    if (peek_keyword("on")) {
      has_type_condition = true;
      advance();
    }
    if (!has_type_condition && peek(TokenKind::kName)) {
      sel.kind = Selection::kFragmentSpread;
      sel.name = parse_fragment_name(&sel.name_loc);
      sel.directives = parse_directives(false);
      return sel;
    }
    sel.kind = Selection::kInlineFragment;
    if (has_type_condition)
      sel.type_condition = parse_name(&sel.type_condition_loc);
    sel.directives = parse_directives(false);
    sel.has_selection_set = true;
    sel.selection_set = parse_selection_set();
    return sel;
  }
  sel.kind = Selection::kField;
  std::string name_or_alias = parse_name();
  if (expect_optional(TokenKind::kColon)) {
    sel.alias = std::move(name_or_alias);
    sel.name = parse_name(&sel.name_loc);
  } else {
    sel.name = std::move(name_or_alias);
    sel.name_loc = sel.loc;
  }
  sel.arguments = parse_arguments(false);
  sel.directives = parse_directives(false);
  if (peek(TokenKind::kBraceL)) {
    sel.has_selection_set = true;
    sel.selection_set = parse_selection_set();
  }
  return sel;
}

std::string Parser::parse_fragment_name(Location *loc) {
  if (peek_keyword("on"))
    unexpected();
  return parse_name(loc);
}

FragmentDefinition Parser::parse_fragment_definition() {
  FragmentDefinition frag;
  frag.loc = token().loc;
  expect_keyword("fragment");
  frag.name = parse_fragment_name(&frag.name_loc);
  expect_keyword("on");
  frag.type_condition = parse_name(&frag.type_condition_loc);
  frag.directives = parse_directives(false);
  frag.selection_set = parse_selection_set();
  return frag;
}

std::vector<Argument> Parser::parse_arguments(bool is_const) {
  std::vector<Argument> args;
  if (!expect_optional(TokenKind::kParenL))
    return args;
  do {
    Argument arg;
    arg.loc = token().loc;
    arg.name = parse_name();
    expect(TokenKind::kColon);
    arg.value = parse_value(is_const);
    args.push_back(std::move(arg));
  } while (!expect_optional(TokenKind::kParenR));
  return args;
}

std::vector<Directive> Parser::parse_directives(bool is_const) {
  std::vector<Directive> directives;
  while (peek(TokenKind::kAt)) {
    Directive d;
    d.loc = token().loc;
    advance();
    d.name = parse_name();
    d.arguments = parse_arguments(is_const);
    directives.push_back(std::move(d));
  }
  return directives;
}

Value Parser::parse_value(bool is_const) {
  const Token start = token();
  Value v;
  v.loc = start.loc;
  switch (start.kind) {
    case TokenKind::kBracketL:
      enter(start);
      advance();
      v.kind = Value::kList;
      while (!expect_optional(TokenKind::kBracketR))
        v.list.push_back(parse_value(is_const));
      leave();
      return v;
    case TokenKind::kBraceL:
      enter(start);
      advance();
      v.kind = Value::kObject;
      while (!expect_optional(TokenKind::kBraceR)) {
        ObjectField field;
        field.loc = token().loc;
        field.name = parse_name();
        expect(TokenKind::kColon);
        field.value = parse_value(is_const);
        v.fields.push_back(std::move(field));
      }
      leave();
      return v;
    case TokenKind::kInt:
      advance();
      v.kind = Value::kInt;
      v.text = start.value;
      return v;
    case TokenKind::kFloat:
      advance();
      v.kind = Value::kFloat;
      v.text = start.value;
      return v;
    case TokenKind::kString:
    case TokenKind::kBlockString:
      advance();
      v.kind = Value::kString;
      v.text = start.value;
      v.block = start.kind == TokenKind::kBlockString;
      return v;
    case TokenKind::kName:
      advance();
      if (start.value == "true" || start.value == "false") {
        v.kind = Value::kBoolean;
        v.boolean = start.value == "true";
      } else if (start.value == "null") {
        v.kind = Value::kNull;
      } else {
        v.kind = Value::kEnum;
        v.text = start.value;
      }
      return v;
    case TokenKind::kDollar:
      advance();
      if (is_const) {
        if (peek(TokenKind::kName))
          lexer_.fail(start.start,
                      "Unexpected variable \"$" + token().value + "\" in constant value.");
        unexpected(start);
      }
      v.kind = Value::kVariable;
      v.text = parse_name();
      return v;
    default:
      unexpected();
  }
}

TypeRefPtr Parser::parse_type_reference() {
  const Token start = token();
  TypeRefPtr type;
  if (expect_optional(TokenKind::kBracketL)) {
    enter(start);
    TypeRefPtr inner = parse_type_reference();
    expect(TokenKind::kBracketR);
    leave();
    type = TypeRef::list(std::move(inner), start.loc);
  } else {
    Location loc;
    std::string name = parse_name(&loc);
    type = TypeRef::named(std::move(name), loc);
  }
  if (expect_optional(TokenKind::kBang))
    return TypeRef::non_null(std::move(type), start.loc);
  return type;
}

}  // namespace pgi::gql
