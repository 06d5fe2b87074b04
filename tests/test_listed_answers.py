"""Plain answers said the way a person reads them (answers/listed.py, answers/texts.py): a found list named by the
request's noun, a page by the whole list's size, a review by what it says, a person's details without codes.

From a blind read of TMDB answers: "I found 3 results: ...", "I found one result: Frank Ochieng." (a review),
"Adult: no, its biography is: <2,000 characters> ... and its gender is 2", "EG, SI, ZA, HU and EE"."""

from toolloom.answers.listed import listed_noun
from toolloom.answers.sentence import sentence
from toolloom.answers.texts import excerpt

SIMILAR = {
    "page": 1,
    "results": [{"id": 60802, "name": "The Last Ship"}, {"id": 1402, "name": "The Walking Dead"}],
    "total_pages": 1,
    "total_results": 2,
}


def test_a_list_under_results_is_named_by_the_requests_noun():
    said = sentence(
        SIMILAR, "What are the similar tv shows of tv show 31917?", {"tv_id": 31917}, "GET_tv-tv_id-similar"
    )
    assert said == "I found 2 similar TV shows: The Last Ship and The Walking Dead."
    one = {**SIMILAR, "results": SIMILAR["results"][:1], "total_results": 1}
    assert sentence(
        one, "Search for movies matching 'The Last Ship'", {"query": "The Last Ship"}, "GET_search-movie"
    ) == ("I found one movie: The Last Ship.")  # not 'one movy'


def test_the_noun_is_the_tools_and_keeps_its_modifiers():
    assert listed_noun("Show me the now playing movies.", "GET_movie-now_playing") == "now playing movies"
    assert listed_noun("Get recommendations of TV show 31917?", "GET_tv-tv_id-recommendations") == "recommendations"
    assert listed_noun("Find shows matching Doctor Who.", "GET_search-tv") == "shows"
    # nothing of the tool's in the request: the list stays 'results'
    assert listed_noun("What is on tonight?", "GET_tv-on_the_air") == ""
    bare = sentence(SIMILAR, "What is on tonight?", {}, "GET_tv-on_the_air")
    assert bare.startswith("I found 2 results: ")


def test_a_page_of_a_longer_list_says_the_whole_lists_size():
    page = {"page": 1, "results": SIMILAR["results"], "total_pages": 33, "total_results": 649}
    said = sentence(page, "Show me the now playing movies.", {}, "GET_movie-now_playing")
    assert said == "I found 649 now playing movies; the first 2: The Last Ship and The Walking Dead."


def test_a_review_is_said_by_its_first_sentence_and_its_author():
    review = {
        "author": "Vlad Ulbricht",
        "content": "Cruel, bloody, vulgar, Machiavellian, unrepentant. And that is just the writing.\r\n\r\nMore.",
        "id": "5a",
        "url": "https://www.themoviedb.org/review/5a",
    }
    said = sentence(
        {"id": 1399, "results": [review]},
        "What are the reviews of tv show 1399?",
        {"tv_id": 1399},
        "GET_tv-tv_id-reviews",
    )
    assert said == 'I found one review: "Cruel, bloody, vulgar, Machiavellian, unrepentant." (by Vlad Ulbricht).'
    assert excerpt("word " * 80).endswith("...") and len(excerpt("word " * 80)) <= 203


def test_a_persons_details_leave_out_bare_flags_codes_and_image_paths_and_open_a_long_biography():
    person = {
        "adult": False,
        "biography": "William Bradley Pitt (born December 18, 1963) is an American actor. " + "He acted. " * 60,
        "birthday": "1963-12-18",
        "gender": 2,
        "id": 287,
        "name": "Brad Pitt",
        "profile_path": "/kU3B75TyRiCgE270EyZnHjfivoq.jpg",
    }
    said = sentence(person, "Show me the details of person 287.", {"person_id": 287}, "GET_person-person_id")
    assert said == (
        'The biography of Brad Pitt is "William Bradley Pitt (born December 18, 1963) is an American actor. ..." '
        "and its birthday is 1963-12-18."
    )


def test_records_named_by_a_country_code_say_the_country_and_their_one_dated_entry():
    dates = {
        "id": 550,
        "results": [
            {
                "iso_3166_1": "EG",
                "release_dates": [{"certification": "", "release_date": "2000-03-01T00:00:00.000Z", "type": 3}],
            },
            {
                "iso_3166_1": "HU",
                "release_dates": [{"certification": "", "release_date": "2000-01-27T00:00:00.000Z", "type": 3}],
            },
        ],
    }
    said = sentence(
        dates, "Show me the release dates of movie 550.", {"movie_id": 550}, "GET_movie-movie_id-release_dates"
    )
    assert said == "I found 2 release dates: Egypt (2000-03-01) and Hungary (2000-01-27)."


def test_a_flag_named_with_a_preposition_is_no_qualifier():
    show = {"name": "You Can Do Better", "in_production": True, "status": "Returning Series"}
    said = sentence(show, "Show me the latest tv show.", {}, "GET_tv-latest")
    assert "(in production" not in said and "Returning Series" in said


def test_a_record_is_found_in_an_answer_by_its_name_or_its_code_and_a_review_by_its_author():
    from toolloom.answers.values import item_name, record_names
    from toolloom.checks.answers import unlisted

    assert record_names({"iso_3166_1": "EG", "release_dates": [{"type": 3}]}) == ["Egypt", "EG"]
    review = {"author": "lmao7", "content": "I started watching when it came out as I heard that fans liked it."}
    assert record_names(review) == ["lmao7"]
    found = {
        "results": [
            review,
            {"author": "Vlad", "content": "Cruel, bloody, vulgar, Machiavellian and unrepentant, truly."},
        ]
    }
    assert unlisted("GET_tv-tv_id-reviews", found, "lmao7 liked it.", "What are the reviews of tv show 1399?") == [
        "Vlad"
    ]
    # an image is said by its path: its shape is no fact a person asked for
    poster = {"aspect_ratio": 0.68, "file_path": "/9Pf7.jpg", "height": 1500, "iso_639_1": "hu", "width": 1020}
    assert item_name(poster) == "/9Pf7.jpg"


def test_a_result_made_of_lists_of_like_records_says_each():
    """'For that TV show, show me the images.' answered with the backdrops alone (a blind read: posters left out)."""
    images = {
        "backdrops": [{"file_path": "/b1.jpg", "height": 1080}, {"file_path": "/b2.jpg", "height": 1080}],
        "id": 60802,
        "posters": [{"file_path": "/p1.jpg", "height": 1688}],
    }
    said = sentence(images, "For that TV show, show me the images.", {"tv_id": 60802}, "GET_tv-tv_id-images")
    assert said == "I found 2 backdrops: /b1.jpg and /b2.jpg; and one poster: /p1.jpg."


def test_a_dialogues_later_list_is_named_by_its_own_tools_noun():
    """'For that tv show, what are the recommendations?' was answered 'I found one similar TV show: ...' (the first
    turn's noun)."""
    turns = (
        "What are the similar tv shows of Pretty Little Liars (tv show 31917)?\n"
        "For that tv show, what are the recommendations?"
    )
    assert listed_noun(turns, "GET_tv-tv_id-recommendations") == "recommendations"
    assert listed_noun(turns, "GET_tv-tv_id-similar") == "similar TV shows"


def test_a_language_code_is_said_by_its_language_and_a_title_the_same_as_the_name_is_not_said_again():
    """'its original language is en and its original title is Fight Club' (a blind read of TMDB)."""
    movie = {
        "id": 550,
        "title": "Fight Club",
        "original_title": "Fight Club",
        "original_language": "en",
        "status": "Released",
        "budget": 63000000,
    }
    said = sentence(movie, "What are the details of Fight Club (movie 550)?", {"movie_id": 550}, "GET_movie-movie_id")
    assert (
        said == "The status of Fight Club is Released, its original language is English and its budget is 63,000,000."
    )


def test_a_records_details_open_with_its_overview_and_when_it_came_out():
    """Fight Club's details were 'its status is Released, its budget is 63,000,000, ...' (a blind read: arbitrary
    fields, not its overview or release date)."""
    movie = {
        "budget": 63000000,
        "id": 550,
        "overview": "An insomniac meets a soap salesman. They start a club.",
        "release_date": "1999-10-12",
        "status": "Released",
        "title": "Fight Club",
    }
    said = sentence(movie, "What are the details of Fight Club (movie 550)?", {"movie_id": 550}, "GET_movie-movie_id")
    assert said == (
        'The overview of Fight Club is "An insomniac meets a soap salesman. ...", its status is Released, '
        "its release date is 1999-10-12 and its budget is 63,000,000."
    )
