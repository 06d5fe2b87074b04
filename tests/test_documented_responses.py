"""What a collection's documentation shows stands in for what a simulator would make up: the call a documented
response answers (executors/simulated.documented_call), and ids that results returned over ids a model made up."""


def test_a_documented_response_gives_its_call_to_the_tasks_and_no_other_call():
    from toolloom.executors.simulated import documented_call, documented_response
    from toolloom.text.synthesis import ArgumentSynthesizer

    movie = {
        "name": "GET_movie-movie_id",
        "parameters": {"type": "object", "properties": {"movie_id": {"type": "integer"}}, "required": ["movie_id"]},
        "meta": {"example_response": {"id": 550, "title": "Fight Club"}},
    }
    assert documented_call(movie) == {"movie_id": 550}
    assert ArgumentSynthesizer([]).argument_sets(movie, 1, 1) == [{"movie_id": 550}]
    assert documented_response(movie, {"movie_id": 551}) is None
    assert documented_response(movie, {"movie_id": 550, "language": "fr"}) is None  # another call than documented
    season = {**movie, "parameters": {**movie["parameters"], "required": ["movie_id", "season_number"]}}
    latest = {**movie, "parameters": {"type": "object", "properties": {}}}
    as_text = {**movie, "meta": {"example_response": {"id": "550", "title": "Fight Club"}}}  # no integer id
    assert documented_call(season) is documented_call(as_text) is None
    assert documented_call(latest) == {} and documented_response(latest, {}) == {"id": 550, "title": "Fight Club"}
    assert ArgumentSynthesizer([]).argument_sets(latest, 1, 1) == [{}]  # the latest show: the documented one


def test_a_proposed_id_nobody_documented_gives_way_to_one_the_collection_returned():
    """The 1.5B user proposed tv_id 12345, 54321, 77777 for TMDB's episode tools, and the simulator then made up
    'The Game of Thrones S01E10' for them; an id a documented or earlier result gave (1399) is taken instead."""
    from toolloom.text.synthesis import ArgumentSynthesizer

    episode = {
        "name": "GET_tv-episode",
        "parameters": {
            "type": "object",
            "properties": {"tv_id": {"type": "integer"}, "episode_number": {"type": "integer"}},
            "required": ["tv_id", "episode_number"],
        },
    }
    edge = {"src_tool": "GET_tv-tv_id", "src_slot": "id", "dst_tool": "GET_tv-episode", "dst_slot": "tv_id"}
    synth = ArgumentSynthesizer([edge])
    alone = ArgumentSynthesizer([])
    made_up = [{"tv_id": 12345, "episode_number": 10}]
    assert alone.valid_proposals(episode, made_up)[0] == made_up  # nothing known: the proposal stands
    synth.observe("GET_tv-tv_id", {"id": 1399, "name": "Game of Thrones"})
    assert synth.valid_proposals(episode, made_up)[0] == [{"tv_id": 1399, "episode_number": 10}]
    assert synth.valid_proposals(episode, [{"tv_id": 1399, "episode_number": 3}])[0] == [
        {"tv_id": 1399, "episode_number": 3}
    ]
