# pg_inbox: the PostgreSQL extension (PGXS, C++17) and the HTTP server.
#
#   make            build the extension and the server
#   make install    install the extension into the PostgreSQL that pg_config names
#   make run        install what is missing, build, start a private cluster and the server
#   make test       the same set-up, then every test suite
#   make bench      the benchmark (see bench/README.md); make bench-citus: three Citus nodes
#                   against one (bench/citus.sh)

EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" extension/pg_inbox.control)

MODULE_big  = pg_inbox
# extension/src has one folder a layer. pg/ and fn/ may include PostgreSQL's headers; the pure
# layers (core/, query/, directus/, graphql/) are compiled without PostgreSQL's include path,
# so a PostgreSQL header there is a build error, not a convention.
PG_DIRS     = pg fn
PURE_DIRS   = core query directus graphql social
PG_OBJS     = $(patsubst %.cpp,%.o,$(sort $(wildcard $(PG_DIRS:%=extension/src/%/*.cpp))))
PURE_OBJS   = $(patsubst %.cpp,%.o,$(sort $(wildcard $(PURE_DIRS:%=extension/src/%/*.cpp))))
OBJS        = $(PG_OBJS) $(PURE_OBJS)
EXT_HEADERS = $(wildcard extension/src/*/*.hpp)
MODULEDIR   = extension
# Installed beside the control file: the upgrade scripts (pg_inbox--A--B.sql, one a release),
# the install script of each released version as it shipped (extension/released/, frozen, so
# that `CREATE EXTENSION pg_inbox VERSION '0.1.0'` installs exactly what 0.1.0 did), and the
# install script of this version, built from extension/sql/.
DATA        = extension/pg_inbox.control $(wildcard extension/pg_inbox--*--*.sql) \
              $(wildcard extension/released/pg_inbox--*.sql)
DATA_built  = extension/pg_inbox--$(EXTVERSION).sql

# Adding a regression test is adding sql/NAME.sql and expected/NAME.out.
REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_DB  ?= pg_inbox_regress
REGRESS_OPTS = --inputdir=.
CONTRIB_TESTDB = $(REGRESS_DB)
# Concurrency: isolation specs in specs/, expected output in expected/.
ISOLATION      = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --inputdir=.
ISOLATION_TESTDB = $(REGRESS_DB)_isolation

# PostgreSQL's headers are C: include them as system headers so C++ warnings stay ours.
PG_CPPFLAGS = -Iextension/src -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-missing-field-initializers
SHLIB_LINK  = -lstdc++

# PGXS would also compile every C++ file to LLVM bitcode for JIT inlining. Our C++ runs
# behind SPI and jsonb calls that JIT cannot inline across, so the bitcode buys nothing and
# would tie the build to a clang matching the server's LLVM.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The install script is the ordered concatenation of extension/sql/*.sql: one file per concern.
extension/pg_inbox--$(EXTVERSION).sql: $(sort $(wildcard extension/sql/*.sql)) extension/pg_inbox.control
	cat $(sort $(wildcard extension/sql/*.sql)) > $@

# --- the HTTP server ----------------------------------------------------------------------
# server/src has one folder a layer: http/ (the event loop: Boost.Beast and Asio behind a small
# interface, and what a request brings), routes/ (the one route table, the dialects and the
# dispatcher), db/ (the pool and the database call), realtime/ (the feed poller and the live
# streams: SSE, WebSocket); config, log, errors, metrics and main sit
# at the top. Beast and Asio are header-only (Debian's libboost1.81-dev): nothing to link but
# -pthread.
SERVER      = server/pg_inbox_server
SERVER_DIRS = server/src server/src/http server/src/routes server/src/db server/src/delivery server/src/realtime
SERVER_SRCS = $(sort $(wildcard $(SERVER_DIRS:%=%/*.cpp)))
SERVER_OBJS = $(SERVER_SRCS:.cpp=.o)
SERVER_HEADERS = $(wildcard $(SERVER_DIRS:%=%/*.hpp))
SERVER_CXXFLAGS = -std=c++17 -O2 -g -Wall -Wextra -Werror -pthread -Iserver/src -Iextension/src \
                  -I$(shell $(PG_CONFIG) --includedir)
# The extension's field registry (pure C++) describes the notification in /openapi.json.
SERVER_EXT_OBJS = extension/src/core/notification_fields.o

ifneq ($(SERVER_SRCS),)
all: $(SERVER)
endif

# A server object is rebuilt when any server header changes (includes name their folder:
# "http/http_server.hpp", so -Iserver/src is the one include path).
server/src/%.o: server/src/%.cpp $(SERVER_HEADERS)
	$(CXX) $(SERVER_CXXFLAGS) -c -o $@ $<

$(SERVER): $(SERVER_OBJS) $(SERVER_EXT_OBJS)
	$(CXX) $(SERVER_CXXFLAGS) -o $@ $^ -lpqxx -lpq -lcurl -lcrypto -pthread

server/src/routes/openapi.o: $(wildcard extension/src/core/*.hpp)

clean: clean-server
clean-server:
	rm -f $(SERVER) $(SERVER_OBJS)

# Every C++ object is rebuilt when a header it may include changes.
$(OBJS): $(EXT_HEADERS)

# The pure layers: PGXS's compiler flags, but none of its include paths (see PURE_DIRS).
$(PURE_OBJS): %.o: %.cpp
	$(CXX) $(CXXFLAGS) -Iextension/src -c -o $@ $<

# --- the two commands and their helpers -----------------------------------------------------
.PHONY: deps run test stop format format-check bench bench-smoke bench-peer bench-citus bench-delivery clean-server
deps:
	scripts/deps.sh
run:
	scripts/run.sh
test:
	scripts/test.sh
stop:
	-[ -f .pg/server.pid ] && kill $$(cat .pg/server.pid) 2>/dev/null; rm -f .pg/server.pid
	scripts/cluster.sh stop run
# Every C++ file of the project; `make test` fails on one that clang-format would change.
CPP_FILES = $(sort $(wildcard extension/src/*/*.[ch]pp server/src/*.[ch]pp server/src/*/*.[ch]pp tests/*/*.cpp))
format:
	@clang-format -i $(CPP_FILES)
format-check:
	@clang-format --dry-run --Werror $(CPP_FILES)
bench:
	bench/run.sh full
	bench/stream.sh
bench-stream:
	bench/stream.sh
bench-smoke:
	bench/run.sh smoke
bench-peer:
	bench/peer.sh
bench-citus:
	bench/citus.sh
bench-delivery:
	bench/delivery.sh
