#include "pg/list_executor.hpp"

#include <algorithm>

#include "query/cursor.hpp"
#include "pg/cursor_mac.hpp"
#include "query/order_keys.hpp"
#include "query/compiler.hpp"
#include "pg/spi_run.hpp"

namespace pgi::spi {
namespace {

// The sort-key values of one page row (columns 2.. of the page statement).
std::vector<query::Scalar> position(uint64 row, const std::vector<query::OrderKey> &keys) {
  std::vector<query::Scalar> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    bool is_null;
    Datum d = value(row, static_cast<int>(i) + 2, is_null);
    out.push_back(scalar(d, is_null, keys[i].field.value_type()));
  }
  return out;
}

}  // namespace

void read_marks(query::Query &q) {
  if (!q.user_id || q.marks || !query::lifecycle_schema())
    return;
  run(query::user_marks_statement(*q.user_id, q.workspace_id), 1);
  auto text = [](int column) -> std::optional<std::string> {
    bool is_null;
    Datum d = value(0, column, is_null);
    if (is_null)
      return std::nullopt;
    return std::get<std::string>(scalar(d, false, query::SqlType::kText));
  };
  auto count = [](int column) -> int64_t {
    bool is_null;
    Datum d = value(0, column, is_null);
    return is_null ? 0 : std::get<int64_t>(scalar(d, false, query::SqlType::kBigint));
  };
  query::UserMarks m;
  m.read_before = text(1);
  if (std::optional<std::string> all = text(2)) {
    // Timestamps joined by " | " (query/marks.hpp: user_marks_statement).
    for (size_t at = 0; at <= all->size();) {
      size_t end = std::min(all->find(" | ", at), all->size());
      if (end > at)
        m.read_marks.push_back(all->substr(at, end - at));
      at = end + 3;
    }
  }
  m.seen = text(3);
  m.expired_active = count(4);
  m.expired_unread = count(5);
  m.expired_deleted = count(6);
  q.marks = std::move(m);
}

query::PageStatements plan_page(const query::Query &request, const query::CursorSigner &signer) {
  query::Query q = request;
  read_marks(q);
  std::vector<query::OrderKey> keys = query::complete_order(q.order);
  query::CursorSide side = query::CursorSide::kNone;
  std::vector<query::Scalar> cursor;
  if (q.paging.after) {
    side = query::CursorSide::kAfter;
    cursor = query::decode_cursor(*q.paging.after, keys, signer, q.paging.after_path);
  } else if (q.paging.before) {
    side = query::CursorSide::kBefore;
    cursor = query::decode_cursor(*q.paging.before, keys, signer, q.paging.before_path);
  }
  return query::compile_page(q, keys, side, cursor);
}

Page run_page(const query::Query &q) {
  InstallationSigner signer;
  query::PageStatements st = plan_page(q, signer);
  query::CursorSide side = q.paging.after    ? query::CursorSide::kAfter
                           : q.paging.before ? query::CursorSide::kBefore
                                             : query::CursorSide::kNone;
  return run_statements(st, side, q.paging.offset, signer);
}

Page run_statements(const query::PageStatements &st, query::CursorSide side, int64_t offset,
                    const query::CursorSigner &signer) {
  const std::vector<query::OrderKey> &keys = st.keys;
  Page page;
  uint64 fetched = run(st.page);
  uint64 kept = fetched;
  bool more = false;
  if (st.fetch_limit && fetched >= static_cast<uint64>(*st.fetch_limit)) {
    kept = static_cast<uint64>(*st.fetch_limit - 1);
    more = true;
  }
  for (uint64 i = 0; i < kept; ++i) {
    bool is_null;
    Datum row = value(i, 1, is_null);
    Datum copy = 0;
    if (!is_null)
      pg_call([&] { copy = SPI_datumTransfer(row, false, -1); });
    page.rows.push_back(copy);
  }
  if (kept > 0) {
    // Both positions are read before signing: the first signature may run a query (the key),
    // which replaces SPI_tuptable.
    uint64 first = st.backward ? kept - 1 : 0, last = st.backward ? 0 : kept - 1;
    std::vector<query::Scalar> start = position(first, keys), end = position(last, keys);
    page.start_cursor = query::encode_cursor(keys, start, signer);
    page.end_cursor = query::encode_cursor(keys, end, signer);
  }
  if (st.backward)
    std::reverse(page.rows.begin(), page.rows.end());

  bool other_side = false;
  if (st.probe) {
    bool is_null;
    run(*st.probe);
    other_side = DatumGetBool(value(0, 1, is_null));
  }
  if (st.backward) {
    page.has_previous = more;
    page.has_next = other_side;
  } else {
    page.has_next = more;
    page.has_previous = side == query::CursorSide::kAfter ? other_side : offset > 0;
  }
  if (st.total) {
    bool is_null;
    run(*st.total);
    page.total = DatumGetInt64(value(0, 1, is_null));
  }
  return page;
}

}  // namespace pgi::spi
