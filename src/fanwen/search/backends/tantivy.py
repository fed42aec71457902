"""The embedded backend: a tantivy index on local disk (VAR_DIR/search unless OPTIONS["path"]).

Text reaches tantivy already segmented (fanwen.search.analysis) as space-separated tokens,
and the fields use tantivy's whitespace tokenizer, so token positions are exactly ours and
phrase queries line up. The title (with the piece count, for the title the article page shows)
and the free parts (fanwen.search.documents.FreeParts) are stored, for titles and snippets; the
body is indexed and never stored. Two more fields hold the title's entries for suggestions
(fanwen.search.suggestions), so the vocabulary follows the search log with the rest of the index.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy
from django.conf import settings
from django.db import connections
from tantivy import FieldType, Occur, Query

from fanwen.search import suggestions
from fanwen.search.analysis import Analyzed, Clause, ParsedQuery, analyze_pair, bigrams
from fanwen.search.backends.base import Found, IndexWriter, Page, SearchBackend, SearchBusy
from fanwen.search.documents import FreeParts, IndexDoc

# A new schema gets a new folder; `fanwen search_reindex` fills it.
# v2: the body text is no longer stored, the free parts are.
# v3: the piece count (for the page's title, "(优秀N篇)"); the suggestion fields.
# v4: the id bucket ("tier"), for searching the newest articles first.
SCHEMA_VERSION = 4
TITLE_BOOST = 4.0
WORD_FIELDS = ("title_words", "body_words")
BIGRAM_FIELDS = ("title_bigrams", "body_bigrams")
SUGGEST_FIELDS = ("suggest_pinyin", "suggest_near")
# Entries read per suggestion key (the most common first).
SUGGEST_LIMIT = 50
# Past the first page, matches are counted when at most this many can match; more are
# estimated from term statistics (counting them would score every one).
EXACT_COUNT_MAX = 2000
# Documents past which a word or bigram is common: what only refines matches of it (a word
# inside longer words, the run as written in the body) is not worth reading positions for.
COMMON_DOCS = 2000
NEVER = 2**62
# Articles by id in one bucket of the "tier" field: a query that may match many searches the
# newest buckets first (about RING_DOCS articles, then each ring as many as all before it) and
# stops when the page is full, so a page costs about the same in a library of any size.
TIER_IDS = 8192
RING_DOCS = 8192
# At most this many possible matches are ranked over the whole library at once.
FEW_DOCS = 300
# Small writes (the outbox) need little memory; a rebuild gets more and all cores.
INCREMENTAL_HEAP = 32_000_000
REBUILD_HEAP = 400_000_000
# Inside the index folder, so a deleted or new index has no cursor and starts from a snapshot
# (tantivy's garbage collection removes only the files it wrote).
CURSOR_FILE = "fanwen-cursor.json"


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("tier", indexed=True)
    builder.add_unsigned_field("category_id", stored=True)
    builder.add_unsigned_field("piece_count", stored=True)
    builder.add_unsigned_field("category_path", indexed=True)
    builder.add_integer_field("published", stored=True, indexed=True, fast=True)
    for name in WORD_FIELDS + BIGRAM_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    for name in SUGGEST_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="basic")
    builder.add_bytes_field("title", stored=True)
    builder.add_bytes_field("free", stored=True)
    return builder.build()


Analysis = tuple[Analyzed, Analyzed, tuple[str, str]]


def analyze_doc(pair: tuple[str, str]) -> Analysis:
    """(title, text) → analyzed title and text and the title's suggestion terms (top-level so
    a process pool can run it)."""
    title, text = analyze_pair(pair)
    return title, text, suggestions.index_terms(pair[0])


def to_document(doc: IndexDoc, analysis: Analysis) -> tantivy.Document:
    title, text, (pinyin_terms, near_terms) = analysis
    document = tantivy.Document()
    document.add_unsigned("id", doc.article_id)
    document.add_unsigned("tier", doc.article_id // TIER_IDS)
    document.add_unsigned("category_id", doc.category_id)
    for category_id in doc.category_path:
        document.add_unsigned("category_path", category_id)
    # No time yet: never public (the query leaves out what is published after now).
    published = doc.published_at.timestamp() if doc.published_at is not None else NEVER
    document.add_integer("published", int(published))
    document.add_text("title_words", title.words)
    document.add_text("title_bigrams", title.bigrams)
    document.add_text("body_words", text.words)
    document.add_text("body_bigrams", text.bigrams)
    document.add_text("suggest_pinyin", pinyin_terms)
    document.add_text("suggest_near", near_terms)
    document.add_unsigned("piece_count", doc.piece_count)
    document.add_bytes("title", doc.title.encode("utf-8"))
    document.add_bytes("free", doc.free.dumps().encode("utf-8"))
    return document


class TantivyWriter(IndexWriter):
    def __init__(self, writer: tantivy.IndexWriter, schema: tantivy.Schema) -> None:
        self.writer = writer
        self.schema = schema

    def replace(self, docs: list[IndexDoc], remove_ids: Iterable[int]) -> None:
        # Deletes apply to documents added before them, so the new versions survive. (By query:
        # a delete by term with a Python int misses the unsigned field.)
        remove = list(remove_ids)
        if remove:
            self.writer.delete_documents_by_query(Query.term_set_query(self.schema, "id", remove))
        for doc in docs:
            self.writer.add_document(to_document(doc, analyze_doc((doc.title, doc.text))))


class TantivyBackend(SearchBackend):
    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        super().__init__(alias, options)
        self.schema = build_schema()
        self._indexes: dict[Path, tantivy.Index] = {}
        self._top: tuple[tuple, int] | None = None
        self._lock = threading.Lock()

    # --- the index on disk ----------------------------------------------------------------

    def path(self) -> Path:
        # Read at use: tests (and `fanwen demo` in a fresh folder) move VAR_DIR.
        base = self.options.get("path") or Path(settings.VAR_DIR) / "search"
        return Path(base) / f"v{SCHEMA_VERSION}"

    def index(self) -> tantivy.Index:
        path = self.path()
        found = self._indexes.get(path)
        if found is not None:
            return found
        with self._lock:
            if path not in self._indexes:
                path.mkdir(parents=True, exist_ok=True)
                self._indexes[path] = tantivy.Index(self.schema, path=str(path), reuse=True)
            return self._indexes[path]

    def _open_writer(self, heap: int, threads: int) -> tantivy.IndexWriter:
        try:
            return self.index().writer(heap_size=heap, num_threads=threads)
        except ValueError as exc:
            if "lock" in str(exc).lower():
                raise SearchBusy(str(exc)) from exc
            raise

    @contextmanager
    def writer(self) -> Iterator[TantivyWriter]:
        writer = self._open_writer(INCREMENTAL_HEAP, 1)
        wrapped = TantivyWriter(writer, self.schema)
        try:
            yield wrapped
        except BaseException:
            writer.rollback()
            raise
        else:
            writer.commit()
            if wrapped.after_commit is not None:
                wrapped.after_commit()
        finally:
            # Releases the lock for the next writer, in this process or another.
            writer.wait_merging_threads()
            del writer
        self.index().reload()

    def rebuild(
        self,
        batches: Iterable[list[IndexDoc]],
        *,
        jobs: int = 1,
        progress=None,
        after_commit: Callable[[], None] | None = None,
    ) -> int:
        pool = None
        if jobs > 1:
            # Workers only segment text; they never touch the database connection.
            connections.close_all()
            pool = multiprocessing.get_context("fork").Pool(jobs)
        writer = self._open_writer(REBUILD_HEAP, 0)
        count = 0
        try:
            writer.delete_all_documents()
            pending: deque = deque()
            for batch in batches:
                pairs = [(doc.title, doc.text) for doc in batch]
                if pool is None:
                    pending.append((batch, [analyze_doc(pair) for pair in pairs]))
                else:
                    chunk = max(1, len(pairs) // (jobs * 4))
                    pending.append((batch, pool.map_async(analyze_doc, pairs, chunk)))
                # One batch segments in the workers while the next one is read from the database.
                while len(pending) > (1 if pool else 0):
                    count += self._add(writer, *pending.popleft(), progress)
            while pending:
                count += self._add(writer, *pending.popleft(), progress)
            writer.commit()
            if after_commit is not None:
                after_commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
            del writer
            if pool is not None:
                pool.terminate()
                pool.join()
        self.index().reload()
        return count

    @staticmethod
    def _add(writer: tantivy.IndexWriter, batch: list[IndexDoc], analyzed, progress) -> int:
        results = analyzed if isinstance(analyzed, list) else analyzed.get()
        for doc, analysis in zip(batch, results, strict=True):
            writer.add_document(to_document(doc, analysis))
        if progress is not None:
            progress(len(batch))
        return len(batch)

    def location(self) -> str:
        return str(self.path())

    def _cursor_path(self) -> Path:
        return self.path() / CURSOR_FILE

    def load_cursor(self) -> dict | None:
        try:
            return json.loads(self._cursor_path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def save_cursor(self, state: dict) -> None:
        path = self._cursor_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"{CURSOR_FILE}.{os.getpid()}.{threading.get_ident()}")
        with open(temp, "w", encoding="utf-8") as out:
            json.dump(state, out)
            out.flush()
            os.fsync(out.fileno())
        # A rename is atomic: a reader sees the old cursor or the new one, never half of one.
        os.replace(temp, path)

    def cursor_version(self) -> object:
        try:
            stat = self._cursor_path().stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_ino)

    def reload(self) -> None:
        self.index().reload()

    def searcher(self) -> tantivy.Searcher:
        return self.index().searcher()

    # --- queries ------------------------------------------------------------------------

    def _either(self, title: Query, body: Query) -> Query:
        return Query.boolean_query(
            [(Occur.Should, Query.boost_query(title, TITLE_BOOST)), (Occur.Should, body)]
        )

    def _word(self, word: str, inside_words: bool = True) -> Query:
        as_word = self._either(
            Query.term_query(self.schema, "title_words", word),
            Query.term_query(self.schema, "body_words", word),
        )
        if len(word) < 2 or not inside_words:
            return as_word
        searcher = self.searcher()
        if len(word) > 2 and (
            searcher.doc_freq("title_words", word) + searcher.doc_freq("body_words", word)
            >= COMMON_DOCS
        ):
            # Common on its own, the word fills the first pages by itself; finding it inside
            # longer words reads its bigrams' positions in a share of the whole library.
            return as_word
        # Inside a longer word of the text (竞聘 in 竞聘上岗) jieba never saw it on its own.
        grams = tuple(bigrams(word))
        inside = self._either(
            self._sequence("title_bigrams", grams), self._sequence("body_bigrams", grams)
        )
        return Query.boolean_query([(Occur.Should, as_word), (Occur.Should, inside)])

    def _sequence(self, field: str, grams: tuple[str, ...]) -> Query:
        if len(grams) == 1:
            return Query.term_query(self.schema, field, grams[0])
        return Query.phrase_query(self.schema, field, self._phrase_terms(grams))

    def _phrase_terms(self, grams: tuple[str, ...]) -> list[tuple[int, str]]:
        """The bigrams a phrase checks: fewest of the common ones that still pin every character.

        Reading positions of a bigram in nearly every document (工作) is most of a phrase's
        cost; skipping it is exact as long as each character stays under a kept bigram.
        """
        searcher = self.searcher()
        freq = [searcher.doc_freq("body_bigrams", gram) for gram in grams]
        keep = set(range(len(grams)))
        # The first and last bigrams hold the ends; a middle one may go when both neighbours
        # stay, most frequent first, never the rarest (it narrows the candidates most).
        for i in sorted(range(1, len(grams) - 1), key=lambda i: -freq[i]):
            if i - 1 in keep and i + 1 in keep and freq[i] > min(freq[j] for j in keep):
                keep.discard(i)
        return [(i, grams[i]) for i in sorted(keep)]

    def _clause(self, clause: Clause) -> Query:
        exact = (
            self._either(
                self._sequence("title_bigrams", clause.bigrams),
                self._sequence("body_bigrams", clause.bigrams),
            )
            if clause.bigrams
            else None
        )
        if clause.phrase and exact is not None:
            return exact
        if exact is not None and clause.words == (clause.text,):
            # One word, the whole run: its bigram match already is the run as written.
            return self._word(clause.text)
        words = [self._word(word) for word in clause.words] or [self._word(clause.text)]
        all_words = (
            words[0]
            if len(words) == 1
            else Query.boolean_query([(Occur.Must, query) for query in words])
        )
        if exact is None:
            return all_words
        searcher = self.searcher()
        if min(searcher.doc_freq("body_bigrams", gram) for gram in clause.bigrams) >= COMMON_DOCS:
            # Every bigram of the run is common: checking where they stand in each body that has
            # them all costs in proportion to the library; the words (all required) and the
            # title as written still rank the run.
            exact = self._sequence("title_bigrams", clause.bigrams)
        # Either jieba's words all appear (anywhere), or the run appears as written: the
        # second finds words segmented differently in context and names jieba does not know.
        return Query.boolean_query([(Occur.Should, all_words), (Occur.Should, exact)])

    def _filters(self, now: datetime, category_id: int | None) -> list[tuple[Occur, Query]]:
        # Published ones only are indexed: what is left out is what is scheduled for later
        # (a handful, where "published before now" would be a range over the whole library).
        later = Query.range_query(
            self.schema, "published", FieldType.Integer, int(now.timestamp()) + 1, None
        )
        filters = [(Occur.MustNot, later)]
        if category_id is not None:
            in_category = Query.term_query(self.schema, "category_path", category_id)
            filters.append((Occur.Must, Query.const_score_query(in_category, 0.0)))
        return filters

    def query_for(
        self, query: ParsedQuery, *, category_id: int | None = None, now: datetime | None = None
    ) -> Query:
        """The tantivy query of a parsed query (public: the benchmark runs it raw)."""
        now = now or datetime.now(UTC)
        clauses = [(Occur.Must, self._clause(clause)) for clause in query.clauses]
        return Query.boolean_query(clauses + self._filters(now, category_id))

    def search(
        self,
        query: ParsedQuery,
        *,
        category_id: int | None,
        offset: int,
        limit: int,
        now: datetime,
    ) -> Page:
        searcher = self.searcher()
        tantivy_query = self.query_for(query, category_id=category_id, now=now)
        rings = self._rings(searcher) if self._may_match_many(searcher, query) else []
        if len(rings) > 1:
            hits, total, exact = self._search_rings(
                searcher, tantivy_query, rings, offset=offset, limit=limit
            )
        else:
            # No count: tantivy may then prune with block-max WAND (a plain union of terms only;
            # the total comes from _total when needed). One hit past the page says whether more.
            result = searcher.search(tantivy_query, limit + 1, count=False, offset=offset)
            hits = result.hits[:limit]
            if len(result.hits) <= limit and (hits or offset == 0):
                total, exact = offset + len(hits), True
            else:
                at_least = offset + limit if hits else 0
                total, exact = self._total(
                    searcher, tantivy_query, query, category_id=category_id, at_least=at_least
                )
        found = []
        for score, address in hits:
            doc = searcher.doc(address)
            published = doc.get_first("published")
            found.append(
                Found(
                    article_id=doc.get_first("id"),
                    title=doc.get_first("title").decode("utf-8"),
                    free=FreeParts.loads(doc.get_first("free").decode("utf-8")),
                    category_id=doc.get_first("category_id"),
                    piece_count=doc.get_first("piece_count") or 1,
                    published_at=(
                        datetime.fromtimestamp(published, UTC)
                        if published is not None and published < NEVER
                        else None
                    ),
                    score=score,
                )
            )
        return Page(total, exact, found)

    def _may_match_many(self, searcher: tantivy.Searcher, query: ParsedQuery) -> bool:
        # Few possible matches are cheap to rank over the whole library, and rank best there.
        bounds = [self._clause_span(searcher, clause)[0] for clause in query.clauses]
        return bool(bounds) and min(bounds) > FEW_DOCS

    def _rings(self, searcher: tantivy.Searcher) -> list[list[int]]:
        """The library's id buckets, newest first, in rings: the first holds about RING_DOCS
        articles, each next one as many as all before it, the last whatever is left."""
        top = self._top_bucket(searcher)
        # Articles added since (ids only grow): a bucket or two past the remembered top.
        while any(searcher.doc_freq("tier", top + step) for step in range(1, 9)):
            top += 1
        rings: list[list[int]] = []
        ring: list[int] = []
        ring_docs = seen = 0
        for bucket in range(top, -1, -1):
            ring.append(bucket)
            ring_docs += searcher.doc_freq("tier", bucket)
            if ring_docs >= max(RING_DOCS, seen):
                rings.append(ring)
                seen += ring_docs
                ring, ring_docs = [], 0
        if ring:
            if rings and ring_docs < RING_DOCS:
                rings[-1].extend(ring)  # a thin oldest ring joins the one before
            else:
                rings.append(ring)
        return rings

    def _top_bucket(self, searcher: tantivy.Searcher) -> int:
        """The newest article's bucket: read once per state of the index (ids can run far past
        the count, after deletions or in a database whose sequence has moved on)."""
        key = (str(self.path()), searcher.num_docs, searcher.num_segments)
        remembered = self._top
        if remembered is not None and remembered[0] == key:
            return remembered[1]
        newest = searcher.search(Query.all_query(), 1, count=False, order_by_field="id").hits
        top = int(newest[0][0]) // TIER_IDS if newest else 0
        self._top = (key, top)
        return top

    def _search_rings(
        self,
        searcher: tantivy.Searcher,
        tantivy_query: Query,
        rings: list[list[int]],
        *,
        offset: int,
        limit: int,
    ) -> tuple[list, int, bool]:
        """The page of matches ordered by ring (newest first), then by score within a ring.

        A common query fills its first pages from the newest ring alone, reading none of the
        older articles' postings; its total is then the rings' count scaled to the library
        (an estimate). Returns (hits, total, exact)."""
        hits: list = []
        matched = covered = 0  # matches in, and articles of, the rings read so far
        for ring in rings:
            in_ring = Query.const_score_query(Query.term_set_query(self.schema, "tier", ring), 0.0)
            ring_query = Query.boolean_query([(Occur.Must, tantivy_query), (Occur.Must, in_ring)])
            want = limit + 1 - len(hits)
            skip = max(0, offset - matched)
            # Counting costs little here: these queries are never pruned, and a ring is small.
            result = searcher.search(ring_query, want, count=True, offset=skip)
            hits.extend(result.hits)
            matched += result.count
            covered += sum(searcher.doc_freq("tier", bucket) for bucket in ring)
            if len(hits) > limit:
                estimate = matched * max(1, searcher.num_docs) // max(1, covered)
                return hits[:limit], max(offset + limit + 1, estimate), False
        return hits, matched, True

    def _total(
        self,
        searcher: tantivy.Searcher,
        tantivy_query: Query,
        query: ParsedQuery,
        *,
        category_id: int | None,
        at_least: int,
    ) -> tuple[int, bool]:
        """How many match, past the page: counted when few can (the rarest term's documents
        bound them), else estimated (never below what the pages so far showed)."""
        docs = max(1, searcher.num_docs)
        spans = [self._clause_span(searcher, clause) for clause in query.clauses]
        if category_id is not None:
            in_category = searcher.doc_freq("category_path", category_id)
            spans.append((in_category, in_category))
        # As if the clauses were independent: a guess of the right size, for "约 N 篇".
        estimate = docs
        for _, likely in spans:
            estimate *= min(docs, likely) / docs
        # Counted when few can match, or few seem to (words that go together, 档案管理 心得,
        # match more often than chance says; the rarest clause then holds no more than about
        # √(2 × EXACT_COUNT_MAX × library) documents), or on a page past the end.
        few = min(bound for bound, _ in spans) <= EXACT_COUNT_MAX or estimate <= EXACT_COUNT_MAX
        if few or at_least == 0:
            return searcher.search(tantivy_query, 1, count=True).count, True
        return max(at_least + 1, int(estimate)), False

    def _clause_span(self, searcher: tantivy.Searcher, clause: Clause) -> tuple[int, int]:
        """(at most, likely) how many documents match the clause: each match holds every
        bigram of each of its words (as a word, inside a longer one, or in the run as written),
        in its title or its body; most documents that have one in the title have it in the
        body too."""
        grams = {gram for word in clause.words for gram in bigrams(word)} or set(clause.bigrams)
        if clause.phrase:
            grams = set(clause.bigrams)
        if not grams:
            return searcher.num_docs, searcher.num_docs
        counts = [
            (searcher.doc_freq("title_bigrams", gram), searcher.doc_freq("body_bigrams", gram))
            for gram in grams
        ]
        likely = min(max(t, b) for t, b in counts)
        for word in () if clause.phrase else clause.words:
            t, b = searcher.doc_freq("title_words", word), searcher.doc_freq("body_words", word)
            if len(word) > 2 and t + b >= COMMON_DOCS:
                likely = min(likely, max(t, b))  # found as a word only (_word)
        return min(t + b for t, b in counts), likely

    # --- the suggestion vocabulary -------------------------------------------------------------

    def _entries(self, field: str, keys: Iterable[str]) -> dict[str, int]:
        searcher = self.searcher()
        found: dict[str, int] = {}
        # Counted in live documents only: a removed article's title stays in the term
        # dictionary until its segment is merged.
        live = Query.all_query()
        for key in dict.fromkeys(keys):
            prefix = f"{key}{suggestions.SEPARATOR}"
            for term, count in searcher.terms_with_prefix(
                field, prefix, filter_query=live, limit=SUGGEST_LIMIT
            ):
                entry = term[len(prefix) :]
                found[entry] = max(found.get(entry, 0), count)
        # A title entry may be a common word of the text too.
        for entry in found:
            found[entry] = max(
                found[entry],
                searcher.doc_freq("title_words", entry),
                searcher.doc_freq("body_words", entry),
            )
        return found

    def entries_by_pinyin(self, key: str) -> dict[str, int]:
        return self._entries("suggest_pinyin", [key])

    def entries_near(self, keys: Iterable[str]) -> dict[str, int]:
        return self._entries("suggest_near", keys)

    def text_frequency(self, text: str, cap: int) -> int:
        searcher = self.searcher()
        known = max(
            searcher.doc_freq("title_words", text),
            searcher.doc_freq("body_words", text),
            searcher.doc_freq("suggest_near", f"{text}{suggestions.SEPARATOR}{text}"),
        )
        grams = tuple(bigrams(text))
        if known >= cap or not grams:
            return known
        # Not a word of its own: in the text as written (the bigrams in a row)?
        as_written = self._either(
            self._sequence("title_bigrams", grams), self._sequence("body_bigrams", grams)
        )
        return max(known, len(searcher.search(as_written, cap, count=False).hits))

    def related(self, terms: list[str], *, exclude_id: int, limit: int, now: datetime) -> list[int]:
        if not terms:
            return []
        searcher = self.searcher()
        any_term = Query.boolean_query(
            [(Occur.Should, self._word(term, inside_words=False)) for term in terms]
        )
        query = Query.boolean_query(
            [
                (Occur.Must, any_term),
                (Occur.MustNot, Query.term_query(self.schema, "id", exclude_id)),
                *self._filters(now, None),
            ]
        )
        result = searcher.search(query, limit, count=False)
        addresses = [address for _, address in result.hits]
        return [int(pk) for pk in searcher.fast_field_values("id", addresses)]

    def doc_ids(self) -> set[int]:
        searcher = self.searcher()
        if not searcher.num_docs:
            return set()
        result = searcher.search(Query.all_query(), searcher.num_docs, count=False)
        addresses = [address for _, address in result.hits]
        return {int(pk) for pk in searcher.fast_field_values("id", addresses)}

    def close(self) -> None:
        with self._lock:
            self._indexes.clear()
