// simdjson.cc FILE - parse (and so validate) every document of an NDJSON
// file with simdjson's DOM parser on one core: the JSON-parsing floor
// beside make bench's bulk ingest.  Built by tests/bench/run when
// libsimdjson-dev is installed, never installed itself.
#include <cstdio>
#include <simdjson.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: simdjson FILE\n");
		return 2;
	}
	simdjson::padded_string json;
	if (simdjson::padded_string::load(argv[1]).get(json)) {
		std::perror(argv[1]);
		return 1;
	}
	simdjson::dom::parser parser;
	simdjson::dom::document_stream docs;
	if (parser.parse_many(json).get(docs))
		return 1;
	size_t n = 0, bad = 0;
	for (auto doc : docs) {
		simdjson::dom::object o;
		bad += doc.get(o) != simdjson::SUCCESS;
		n++;
	}
	if (bad)
		std::fprintf(stderr, "simdjson: %zu of %zu not objects\n", bad, n);
	return bad != 0;
}
