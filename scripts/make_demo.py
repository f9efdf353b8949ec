"""Generate the bundled demo dataset (``data/demo/``): synthetic users with planted tastes.

The demo is **synthetic**: the movies are real (titles, years and genres are public facts),
the users and their ratings are invented. Each user has one or two favourite genres and a
preferred era; they rate 20-80 movies, chosen with a bias to popular movies and to their
taste, and like (4-5 stars) mostly the movies that match their taste, disliking (1-3) most
of the others. A recommender trained on it should recover those tastes.

The output is fully deterministic (stdlib :mod:`random` with a fixed seed, no NumPy), so
rerunning this script rewrites identical bytes::

    python scripts/make_demo.py              # writes data/demo/
    python scripts/make_demo.py --out DIR    # writes somewhere else

Files (MovieLens "latest" layout, UTF-8, ``\\n`` line ends):

- ``ratings.csv``: ``userId,movieId,rating,timestamp``
- ``movies.csv``: ``movieId,title,genres`` (titles with commas are quoted)
- ``tastes.csv``: ``userId,genres,era``: the planted taste of each user
  (``genres`` ``|``-separated, ``era`` a ``FIRST-LAST`` year range)
- ``README.md``: what this is
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
from collections import Counter
from pathlib import Path

SEED = 20240501
N_USERS = 400
MIN_RATINGS = 20
MAX_RATINGS = 80
#: Eras a user can prefer: (first year, last year).
ERAS = [(1920, 1969), (1970, 1989), (1990, 1999), (2000, 2019)]
#: Genres too broad or too rare to make a taste of.
NOT_A_TASTE = {"Drama", "Film-Noir", "Documentary", "IMAX"}
#: A genre needs this many movies to be somebody's favourite.
MIN_GENRE_MOVIES = 20
#: Ratings timestamps fall between these instants (2015-01-01 .. about 2020).
T0 = 1_420_070_400
T_SPAN = 5 * 365 * 86_400

# (title, year, genres). Real, well-known movies; titles, years and genres are facts.
MOVIES: list[tuple[str, int, str]] = [
    # ---------------------------------------------------------------- 1920-1969
    ("The Gold Rush", 1925, "Adventure|Comedy|Romance"),
    ("Metropolis", 1927, "Drama|Sci-Fi"),
    ("City Lights", 1931, "Comedy|Drama|Romance"),
    ("Frankenstein", 1931, "Drama|Horror|Sci-Fi"),
    ("Dracula", 1931, "Horror"),
    ("King Kong", 1933, "Action|Adventure|Fantasy|Horror"),
    ("It Happened One Night", 1934, "Comedy|Romance"),
    ("Modern Times", 1936, "Comedy|Drama|Romance"),
    ("Snow White and the Seven Dwarfs", 1937, "Animation|Children|Drama|Fantasy|Musical"),
    ("The Adventures of Robin Hood", 1938, "Action|Adventure|Romance"),
    ("The Wizard of Oz", 1939, "Adventure|Children|Fantasy|Musical"),
    ("Gone with the Wind", 1939, "Drama|Romance|War"),
    ("Stagecoach", 1939, "Action|Drama|Romance|Western"),
    ("Pinocchio", 1940, "Animation|Children|Fantasy|Musical"),
    ("Fantasia", 1940, "Animation|Children|Fantasy|Musical"),
    ("Rebecca", 1940, "Drama|Mystery|Romance|Thriller"),
    ("Citizen Kane", 1941, "Drama|Mystery"),
    ("The Maltese Falcon", 1941, "Film-Noir|Mystery"),
    ("Dumbo", 1941, "Animation|Children|Drama|Musical"),
    ("Casablanca", 1942, "Drama|Romance|War"),
    ("Bambi", 1942, "Animation|Children|Drama"),
    ("Double Indemnity", 1944, "Crime|Drama|Film-Noir"),
    ("It's a Wonderful Life", 1946, "Children|Drama|Fantasy|Romance"),
    ("The Big Sleep", 1946, "Crime|Film-Noir|Mystery"),
    ("Notorious", 1946, "Film-Noir|Romance|Thriller"),
    ("The Treasure of the Sierra Madre", 1948, "Action|Adventure|Drama|Western"),
    ("The Third Man", 1949, "Film-Noir|Mystery|Thriller"),
    ("Sunset Boulevard", 1950, "Drama|Film-Noir|Romance"),
    ("Rashomon", 1950, "Crime|Drama|Mystery"),
    ("Cinderella", 1950, "Animation|Children|Fantasy|Musical|Romance"),
    ("Singin' in the Rain", 1952, "Comedy|Musical|Romance"),
    ("High Noon", 1952, "Drama|Western"),
    ("Roman Holiday", 1953, "Comedy|Drama|Romance"),
    ("Peter Pan", 1953, "Animation|Children|Fantasy|Musical"),
    ("Seven Samurai", 1954, "Action|Adventure|Drama"),
    ("Rear Window", 1954, "Mystery|Thriller"),
    ("On the Waterfront", 1954, "Crime|Drama"),
    ("Godzilla", 1954, "Drama|Horror|Sci-Fi"),
    ("Lady and the Tramp", 1955, "Animation|Children|Comedy|Romance"),
    ("The Searchers", 1956, "Drama|Western"),
    ("Invasion of the Body Snatchers", 1956, "Horror|Sci-Fi|Thriller"),
    ("Forbidden Planet", 1956, "Drama|Sci-Fi"),
    ("12 Angry Men", 1957, "Drama"),
    ("The Bridge on the River Kwai", 1957, "Adventure|Drama|War"),
    ("Vertigo", 1958, "Drama|Mystery|Romance|Thriller"),
    ("North by Northwest", 1959, "Action|Adventure|Mystery|Romance|Thriller"),
    ("Some Like It Hot", 1959, "Comedy|Crime"),
    ("Ben-Hur", 1959, "Action|Adventure|Drama"),
    ("Rio Bravo", 1959, "Western"),
    ("Sleeping Beauty", 1959, "Animation|Children|Musical"),
    ("Psycho", 1960, "Crime|Horror"),
    ("The Apartment", 1960, "Comedy|Drama|Romance"),
    ("The Magnificent Seven", 1960, "Adventure|Western"),
    ("Spartacus", 1960, "Action|Drama|Romance|War"),
    ("One Hundred and One Dalmatians", 1961, "Adventure|Animation|Children"),
    ("West Side Story", 1961, "Drama|Musical|Romance"),
    ("Lawrence of Arabia", 1962, "Adventure|Drama|War"),
    ("To Kill a Mockingbird", 1962, "Drama"),
    ("Dr. No", 1962, "Action|Adventure|Thriller"),
    ("The Man Who Shot Liberty Valance", 1962, "Crime|Drama|Western"),
    ("The Birds", 1963, "Horror|Thriller"),
    ("The Great Escape", 1963, "Action|Adventure|Drama|War"),
    (
        "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb",
        1964,
        "Comedy|War",
    ),
    ("Goldfinger", 1964, "Action|Adventure|Thriller"),
    ("Mary Poppins", 1964, "Children|Comedy|Fantasy|Musical"),
    ("My Fair Lady", 1964, "Comedy|Drama|Musical|Romance"),
    ("A Fistful of Dollars", 1964, "Action|Western"),
    ("The Sound of Music", 1965, "Musical|Romance"),
    ("For a Few Dollars More", 1965, "Action|Drama|Thriller|Western"),
    ("The Good, the Bad and the Ugly", 1966, "Action|Adventure|Western"),
    ("The Jungle Book", 1967, "Animation|Children|Comedy|Musical"),
    ("The Graduate", 1967, "Comedy|Drama|Romance"),
    ("2001: A Space Odyssey", 1968, "Adventure|Drama|Sci-Fi"),
    ("Planet of the Apes", 1968, "Action|Drama|Sci-Fi"),
    ("Night of the Living Dead", 1968, "Horror|Sci-Fi|Thriller"),
    ("Rosemary's Baby", 1968, "Drama|Horror|Thriller"),
    ("Once Upon a Time in the West", 1968, "Action|Drama|Western"),
    ("Butch Cassidy and the Sundance Kid", 1969, "Action|Western"),
    ("The Wild Bunch", 1969, "Adventure|Western"),
    ("True Grit", 1969, "Adventure|Drama|Western"),
    # ---------------------------------------------------------------- 1970-1989
    ("M*A*S*H", 1970, "Comedy|Drama|War"),
    ("A Clockwork Orange", 1971, "Crime|Drama|Sci-Fi|Thriller"),
    ("Dirty Harry", 1971, "Action|Crime|Thriller"),
    ("The French Connection", 1971, "Action|Crime|Thriller"),
    ("Willy Wonka & the Chocolate Factory", 1971, "Children|Comedy|Fantasy|Musical"),
    ("The Godfather", 1972, "Crime|Drama"),
    ("The Exorcist", 1973, "Horror|Mystery"),
    ("The Sting", 1973, "Comedy|Crime"),
    ("Enter the Dragon", 1973, "Action|Crime"),
    ("Robin Hood", 1973, "Adventure|Animation|Children|Comedy|Musical"),
    ("The Godfather: Part II", 1974, "Crime|Drama"),
    ("Chinatown", 1974, "Crime|Film-Noir|Mystery|Thriller"),
    ("Blazing Saddles", 1974, "Comedy|Western"),
    ("Young Frankenstein", 1974, "Comedy|Fantasy"),
    ("The Texas Chain Saw Massacre", 1974, "Horror"),
    ("Jaws", 1975, "Action|Horror"),
    ("One Flew Over the Cuckoo's Nest", 1975, "Drama"),
    ("Monty Python and the Holy Grail", 1975, "Adventure|Comedy|Fantasy"),
    ("The Rocky Horror Picture Show", 1975, "Comedy|Horror|Musical|Sci-Fi"),
    ("Taxi Driver", 1976, "Crime|Drama|Thriller"),
    ("Rocky", 1976, "Drama"),
    ("Carrie", 1976, "Drama|Fantasy|Horror|Thriller"),
    ("The Omen", 1976, "Horror|Mystery|Thriller"),
    ("The Outlaw Josey Wales", 1976, "Action|Adventure|Drama|Thriller|Western"),
    ("Star Wars", 1977, "Action|Adventure|Sci-Fi"),
    ("Annie Hall", 1977, "Comedy|Romance"),
    ("Close Encounters of the Third Kind", 1977, "Adventure|Drama|Sci-Fi"),
    ("Grease", 1978, "Comedy|Musical|Romance"),
    ("Halloween", 1978, "Horror"),
    ("The Deer Hunter", 1978, "Drama|War"),
    ("Superman", 1978, "Action|Adventure|Sci-Fi"),
    ("Dawn of the Dead", 1978, "Action|Drama|Horror"),
    ("Animal House", 1978, "Comedy"),
    ("Alien", 1979, "Horror|Sci-Fi"),
    ("Apocalypse Now", 1979, "Action|Drama|War"),
    ("Mad Max", 1979, "Action|Adventure|Sci-Fi"),
    ("Monty Python's Life of Brian", 1979, "Comedy"),
    ("The Empire Strikes Back", 1980, "Action|Adventure|Sci-Fi"),
    ("The Shining", 1980, "Horror"),
    ("Airplane!", 1980, "Comedy"),
    ("The Blues Brothers", 1980, "Action|Comedy|Musical"),
    ("Raiders of the Lost Ark", 1981, "Action|Adventure"),
    ("Das Boot", 1981, "Action|Drama|War"),
    ("An American Werewolf in London", 1981, "Comedy|Horror|Thriller"),
    ("Escape from New York", 1981, "Action|Adventure|Sci-Fi|Thriller"),
    ("The Evil Dead", 1981, "Fantasy|Horror|Thriller"),
    ("Blade Runner", 1982, "Action|Sci-Fi|Thriller"),
    ("E.T. the Extra-Terrestrial", 1982, "Children|Drama|Sci-Fi"),
    ("The Thing", 1982, "Action|Horror|Sci-Fi|Thriller"),
    ("Tootsie", 1982, "Comedy|Romance"),
    ("First Blood", 1982, "Action|Adventure|Drama|Thriller"),
    ("Poltergeist", 1982, "Horror|Thriller"),
    ("Tron", 1982, "Action|Adventure|Sci-Fi"),
    ("Return of the Jedi", 1983, "Action|Adventure|Sci-Fi"),
    ("Scarface", 1983, "Action|Crime|Drama"),
    ("A Christmas Story", 1983, "Children|Comedy"),
    ("WarGames", 1983, "Drama|Sci-Fi|Thriller"),
    ("The Terminator", 1984, "Action|Sci-Fi|Thriller"),
    ("Ghostbusters", 1984, "Action|Comedy|Sci-Fi"),
    ("Amadeus", 1984, "Drama"),
    ("Indiana Jones and the Temple of Doom", 1984, "Action|Adventure|Fantasy"),
    ("A Nightmare on Elm Street", 1984, "Horror|Thriller"),
    ("Beverly Hills Cop", 1984, "Action|Comedy|Crime|Drama"),
    ("Gremlins", 1984, "Comedy|Horror"),
    ("Back to the Future", 1985, "Adventure|Comedy|Sci-Fi"),
    ("The Breakfast Club", 1985, "Comedy|Drama"),
    ("The Goonies", 1985, "Action|Adventure|Children|Comedy|Fantasy"),
    ("Brazil", 1985, "Fantasy|Sci-Fi"),
    ("Ran", 1985, "Drama|War"),
    ("Aliens", 1986, "Action|Adventure|Horror|Sci-Fi"),
    ("Platoon", 1986, "Drama|War"),
    ("Top Gun", 1986, "Action|Romance"),
    ("Ferris Bueller's Day Off", 1986, "Comedy"),
    ("Stand by Me", 1986, "Adventure|Drama"),
    ("The Fly", 1986, "Drama|Horror|Sci-Fi|Thriller"),
    ("Blue Velvet", 1986, "Drama|Mystery|Thriller"),
    ("Castle in the Sky", 1986, "Action|Adventure|Animation|Children|Fantasy|Sci-Fi"),
    ("The Princess Bride", 1987, "Action|Adventure|Comedy|Fantasy|Romance"),
    ("Full Metal Jacket", 1987, "Drama|War"),
    ("RoboCop", 1987, "Action|Crime|Drama|Sci-Fi|Thriller"),
    ("Predator", 1987, "Action|Sci-Fi|Thriller"),
    ("Lethal Weapon", 1987, "Action|Comedy|Crime|Drama"),
    ("Dirty Dancing", 1987, "Drama|Musical|Romance"),
    ("Planes, Trains & Automobiles", 1987, "Comedy"),
    ("The Untouchables", 1987, "Action|Crime|Drama"),
    ("Die Hard", 1988, "Action|Crime|Thriller"),
    ("My Neighbor Totoro", 1988, "Animation|Children|Drama|Fantasy"),
    ("Akira", 1988, "Action|Adventure|Animation|Sci-Fi"),
    ("Grave of the Fireflies", 1988, "Animation|Drama|War"),
    (
        "Who Framed Roger Rabbit",
        1988,
        "Adventure|Animation|Children|Comedy|Crime|Fantasy|Mystery",
    ),
    ("Beetlejuice", 1988, "Comedy|Fantasy"),
    ("Big", 1988, "Comedy|Drama|Fantasy|Romance"),
    ("Batman", 1989, "Action|Crime|Thriller"),
    ("Indiana Jones and the Last Crusade", 1989, "Action|Adventure"),
    ("When Harry Met Sally...", 1989, "Comedy|Romance"),
    ("Dead Poets Society", 1989, "Drama"),
    ("The Little Mermaid", 1989, "Animation|Children|Comedy|Musical|Romance"),
    ("Back to the Future Part II", 1989, "Adventure|Comedy|Sci-Fi"),
    ("Kiki's Delivery Service", 1989, "Adventure|Animation|Children|Drama|Fantasy"),
    ("Field of Dreams", 1989, "Children|Drama|Fantasy"),
    # ---------------------------------------------------------------- 1990-1999
    ("Goodfellas", 1990, "Crime|Drama"),
    ("Home Alone", 1990, "Children|Comedy"),
    ("Total Recall", 1990, "Action|Adventure|Sci-Fi|Thriller"),
    ("Edward Scissorhands", 1990, "Drama|Fantasy|Romance"),
    ("Pretty Woman", 1990, "Comedy|Romance"),
    ("Dances with Wolves", 1990, "Adventure|Drama|Western"),
    ("Ghost", 1990, "Comedy|Drama|Fantasy|Romance|Thriller"),
    ("Misery", 1990, "Drama|Horror|Thriller"),
    ("The Hunt for Red October", 1990, "Action|Adventure|Thriller"),
    ("The Silence of the Lambs", 1991, "Crime|Horror|Thriller"),
    ("Terminator 2: Judgment Day", 1991, "Action|Sci-Fi"),
    ("Beauty and the Beast", 1991, "Animation|Children|Fantasy|Musical|Romance"),
    ("Thelma & Louise", 1991, "Adventure|Crime|Drama"),
    ("JFK", 1991, "Drama|Mystery|Thriller"),
    ("Point Break", 1991, "Action|Crime|Thriller"),
    ("Unforgiven", 1992, "Drama|Western"),
    ("Reservoir Dogs", 1992, "Crime|Mystery|Thriller"),
    ("Aladdin", 1992, "Adventure|Animation|Children|Comedy|Musical"),
    ("A Few Good Men", 1992, "Crime|Drama|Thriller"),
    ("The Last of the Mohicans", 1992, "Action|Romance|War|Western"),
    ("Bram Stoker's Dracula", 1992, "Fantasy|Horror|Romance|Thriller"),
    ("Porco Rosso", 1992, "Adventure|Animation|Comedy|Fantasy|Romance"),
    ("Jurassic Park", 1993, "Action|Adventure|Sci-Fi|Thriller"),
    ("Schindler's List", 1993, "Drama|War"),
    ("Groundhog Day", 1993, "Comedy|Fantasy|Romance"),
    ("The Fugitive", 1993, "Thriller"),
    ("The Nightmare Before Christmas", 1993, "Animation|Children|Fantasy|Musical"),
    ("Tombstone", 1993, "Action|Drama|Western"),
    ("Pulp Fiction", 1994, "Comedy|Crime|Drama|Thriller"),
    ("The Shawshank Redemption", 1994, "Crime|Drama"),
    ("Forrest Gump", 1994, "Comedy|Drama|Romance|War"),
    ("The Lion King", 1994, "Adventure|Animation|Children|Drama|Musical"),
    ("Léon: The Professional", 1994, "Action|Crime|Drama|Thriller"),
    ("Speed", 1994, "Action|Romance|Thriller"),
    ("True Lies", 1994, "Action|Adventure|Comedy|Romance|Thriller"),
    ("Four Weddings and a Funeral", 1994, "Comedy|Romance"),
    ("Dumb and Dumber", 1994, "Adventure|Comedy"),
    ("Hoop Dreams", 1994, "Documentary"),
    ("Heat", 1995, "Action|Crime|Thriller"),
    ("Se7en", 1995, "Mystery|Thriller"),
    ("The Usual Suspects", 1995, "Crime|Mystery|Thriller"),
    ("Toy Story", 1995, "Adventure|Animation|Children|Comedy|Fantasy"),
    ("Braveheart", 1995, "Action|Drama|War"),
    ("Apollo 13", 1995, "Adventure|Drama|IMAX"),
    ("12 Monkeys", 1995, "Mystery|Sci-Fi|Thriller"),
    ("Sense and Sensibility", 1995, "Drama|Romance"),
    ("GoldenEye", 1995, "Action|Adventure|Thriller"),
    ("Ghost in the Shell", 1995, "Animation|Sci-Fi"),
    ("Jumanji", 1995, "Adventure|Children|Fantasy"),
    ("Fargo", 1996, "Comedy|Crime|Drama|Thriller"),
    ("Trainspotting", 1996, "Comedy|Crime|Drama"),
    ("Independence Day", 1996, "Action|Adventure|Sci-Fi|Thriller"),
    ("Scream", 1996, "Comedy|Horror|Mystery|Thriller"),
    ("Mission: Impossible", 1996, "Action|Adventure|Mystery|Thriller"),
    ("The English Patient", 1996, "Drama|Romance|War"),
    ("Mars Attacks!", 1996, "Action|Comedy|Sci-Fi"),
    ("Twister", 1996, "Action|Adventure|Romance|Thriller"),
    ("Titanic", 1997, "Drama|Romance"),
    ("Good Will Hunting", 1997, "Drama|Romance"),
    ("L.A. Confidential", 1997, "Crime|Film-Noir|Mystery|Thriller"),
    ("Men in Black", 1997, "Action|Comedy|Sci-Fi"),
    ("The Fifth Element", 1997, "Action|Adventure|Comedy|Sci-Fi"),
    ("Princess Mononoke", 1997, "Action|Adventure|Animation|Drama|Fantasy"),
    ("Life Is Beautiful", 1997, "Comedy|Drama|Romance|War"),
    ("Gattaca", 1997, "Drama|Sci-Fi|Thriller"),
    ("Face/Off", 1997, "Action|Crime|Drama|Thriller"),
    ("As Good as It Gets", 1997, "Comedy|Drama|Romance"),
    ("Starship Troopers", 1997, "Action|Sci-Fi"),
    ("Saving Private Ryan", 1998, "Action|Drama|War"),
    ("The Big Lebowski", 1998, "Comedy|Crime"),
    ("The Truman Show", 1998, "Comedy|Drama|Sci-Fi"),
    ("Lock, Stock and Two Smoking Barrels", 1998, "Comedy|Crime|Thriller"),
    ("There's Something About Mary", 1998, "Comedy|Romance"),
    ("Shakespeare in Love", 1998, "Comedy|Drama|Romance"),
    ("Mulan", 1998, "Adventure|Animation|Children|Comedy|Drama|Musical|Romance"),
    ("Armageddon", 1998, "Action|Romance|Sci-Fi|Thriller"),
    ("The Matrix", 1999, "Action|Sci-Fi|Thriller"),
    ("Fight Club", 1999, "Action|Crime|Drama|Thriller"),
    ("American Beauty", 1999, "Drama|Romance"),
    ("The Sixth Sense", 1999, "Drama|Horror|Mystery"),
    ("The Green Mile", 1999, "Crime|Drama"),
    ("Toy Story 2", 1999, "Adventure|Animation|Children|Comedy|Fantasy"),
    ("The Blair Witch Project", 1999, "Drama|Horror|Thriller"),
    ("Being John Malkovich", 1999, "Comedy|Drama|Fantasy"),
    ("Notting Hill", 1999, "Comedy|Romance"),
    ("The Iron Giant", 1999, "Adventure|Animation|Children|Drama|Sci-Fi"),
    ("Office Space", 1999, "Comedy|Crime"),
    ("The Mummy", 1999, "Action|Adventure|Comedy|Fantasy|Horror|Thriller"),
    ("Galaxy Quest", 1999, "Adventure|Comedy|Sci-Fi"),
    ("Sleepy Hollow", 1999, "Fantasy|Horror|Mystery|Romance"),
    # ---------------------------------------------------------------- 2000-2019
    ("Gladiator", 2000, "Action|Adventure|Drama"),
    ("Memento", 2000, "Mystery|Thriller"),
    ("Crouching Tiger, Hidden Dragon", 2000, "Action|Drama|Romance"),
    ("Snatch", 2000, "Comedy|Crime|Thriller"),
    ("O Brother, Where Art Thou?", 2000, "Adventure|Comedy|Crime"),
    ("X-Men", 2000, "Action|Adventure|Sci-Fi"),
    ("Amélie", 2001, "Comedy|Romance"),
    ("Spirited Away", 2001, "Adventure|Animation|Fantasy"),
    ("The Lord of the Rings: The Fellowship of the Ring", 2001, "Adventure|Fantasy"),
    ("Shrek", 2001, "Adventure|Animation|Children|Comedy|Fantasy|Romance"),
    ("Monsters, Inc.", 2001, "Adventure|Animation|Children|Comedy|Fantasy"),
    ("Harry Potter and the Sorcerer's Stone", 2001, "Adventure|Children|Fantasy"),
    ("Ocean's Eleven", 2001, "Crime|Thriller"),
    ("Donnie Darko", 2001, "Drama|Mystery|Sci-Fi|Thriller"),
    ("Mulholland Drive", 2001, "Crime|Drama|Mystery|Thriller"),
    ("Black Hawk Down", 2001, "Action|Drama|War"),
    ("Moulin Rouge!", 2001, "Drama|Musical|Romance"),
    ("The Lord of the Rings: The Two Towers", 2002, "Adventure|Fantasy"),
    ("City of God", 2002, "Action|Adventure|Crime|Drama|Thriller"),
    ("Spider-Man", 2002, "Action|Adventure|Sci-Fi|Thriller"),
    ("Minority Report", 2002, "Action|Crime|Mystery|Sci-Fi|Thriller"),
    ("The Bourne Identity", 2002, "Action|Mystery|Thriller"),
    ("28 Days Later", 2002, "Action|Horror|Sci-Fi"),
    ("The Pianist", 2002, "Drama|War"),
    ("Chicago", 2002, "Comedy|Crime|Drama|Musical"),
    ("The Ring", 2002, "Horror|Mystery|Thriller"),
    ("Bowling for Columbine", 2002, "Documentary"),
    (
        "The Lord of the Rings: The Return of the King",
        2003,
        "Action|Adventure|Drama|Fantasy",
    ),
    ("Finding Nemo", 2003, "Adventure|Animation|Children|Comedy"),
    (
        "Pirates of the Caribbean: The Curse of the Black Pearl",
        2003,
        "Action|Adventure|Comedy|Fantasy",
    ),
    ("Kill Bill: Vol. 1", 2003, "Action|Crime|Thriller"),
    ("Oldboy", 2003, "Mystery|Thriller"),
    ("Love Actually", 2003, "Comedy|Drama|Romance"),
    ("Big Fish", 2003, "Drama|Fantasy|Romance"),
    ("Master and Commander: The Far Side of the World", 2003, "Adventure|Drama|War"),
    ("Eternal Sunshine of the Spotless Mind", 2004, "Drama|Romance|Sci-Fi"),
    ("The Incredibles", 2004, "Action|Adventure|Animation|Children|Comedy"),
    ("Shaun of the Dead", 2004, "Comedy|Horror"),
    ("Howl's Moving Castle", 2004, "Adventure|Animation|Fantasy|Romance"),
    ("Batman Begins", 2005, "Action|Crime"),
    ("Sin City", 2005, "Action|Crime|Film-Noir|Mystery|Thriller"),
    ("Pride & Prejudice", 2005, "Drama|Romance"),
    ("Serenity", 2005, "Action|Adventure|Sci-Fi"),
    ("March of the Penguins", 2005, "Documentary"),
    ("The Departed", 2006, "Crime|Drama|Thriller"),
    ("Casino Royale", 2006, "Action|Adventure|Thriller"),
    ("Pan's Labyrinth", 2006, "Drama|Fantasy|Thriller"),
    ("The Prestige", 2006, "Drama|Mystery|Sci-Fi|Thriller"),
    ("Children of Men", 2006, "Action|Adventure|Drama|Sci-Fi|Thriller"),
    ("Little Miss Sunshine", 2006, "Adventure|Comedy|Drama"),
    ("V for Vendetta", 2006, "Action|Sci-Fi|Thriller"),
    ("No Country for Old Men", 2007, "Crime|Drama"),
    ("There Will Be Blood", 2007, "Drama|Western"),
    ("Ratatouille", 2007, "Animation|Children|Drama"),
    ("Superbad", 2007, "Comedy"),
    ("Hot Fuzz", 2007, "Action|Comedy|Crime|Mystery"),
    ("The Bourne Ultimatum", 2007, "Action|Crime|Thriller"),
    ("3:10 to Yuma", 2007, "Action|Crime|Drama|Western"),
    ("The Dark Knight", 2008, "Action|Crime|Drama|IMAX"),
    ("WALL·E", 2008, "Adventure|Animation|Children|Romance|Sci-Fi"),
    ("Iron Man", 2008, "Action|Adventure|Sci-Fi"),
    ("In Bruges", 2008, "Comedy|Crime|Drama|Thriller"),
    ("Let the Right One In", 2008, "Drama|Fantasy|Horror|Romance"),
    ("Man on Wire", 2008, "Documentary"),
    ("Up", 2009, "Adventure|Animation|Children|Drama"),
    ("Inglourious Basterds", 2009, "Action|Drama|War"),
    ("Avatar", 2009, "Action|Adventure|Sci-Fi|IMAX"),
    ("District 9", 2009, "Mystery|Sci-Fi|Thriller"),
    ("The Hangover", 2009, "Comedy|Crime"),
    ("Star Trek", 2009, "Action|Adventure|Sci-Fi|IMAX"),
    ("Zombieland", 2009, "Action|Comedy|Horror"),
    ("(500) Days of Summer", 2009, "Comedy|Drama|Romance"),
    ("Inception", 2010, "Action|Crime|Drama|Mystery|Sci-Fi|Thriller|IMAX"),
    ("Toy Story 3", 2010, "Adventure|Animation|Children|Comedy|Fantasy|IMAX"),
    ("Shutter Island", 2010, "Drama|Mystery|Thriller"),
    ("How to Train Your Dragon", 2010, "Adventure|Animation|Children|Fantasy|IMAX"),
    ("True Grit", 2010, "Western"),
    ("Senna", 2010, "Documentary"),
    ("Drive", 2011, "Crime|Drama|Film-Noir|Thriller"),
    ("Midnight in Paris", 2011, "Comedy|Fantasy|Romance"),
    ("Rise of the Planet of the Apes", 2011, "Drama|Sci-Fi|Thriller"),
    ("The Avengers", 2012, "Action|Adventure|Sci-Fi|IMAX"),
    ("Django Unchained", 2012, "Action|Drama|Western"),
    ("The Dark Knight Rises", 2012, "Action|Adventure|Crime|IMAX"),
    ("Skyfall", 2012, "Action|Adventure|Thriller|IMAX"),
    ("Moonrise Kingdom", 2012, "Comedy|Drama|Romance"),
    ("Life of Pi", 2012, "Adventure|Drama|IMAX"),
    ("Gravity", 2013, "Action|Sci-Fi|IMAX"),
    ("Her", 2013, "Drama|Romance|Sci-Fi"),
    ("The Wolf of Wall Street", 2013, "Comedy|Crime|Drama"),
    ("Frozen", 2013, "Adventure|Animation|Comedy|Fantasy|Musical|Romance"),
    ("Prisoners", 2013, "Drama|Mystery|Thriller"),
    ("The Conjuring", 2013, "Horror|Thriller"),
    ("Interstellar", 2014, "Sci-Fi|IMAX"),
    ("The Grand Budapest Hotel", 2014, "Comedy|Drama"),
    ("Guardians of the Galaxy", 2014, "Action|Adventure|Sci-Fi"),
    ("Edge of Tomorrow", 2014, "Action|Sci-Fi|IMAX"),
    ("Birdman or (The Unexpected Virtue of Ignorance)", 2014, "Comedy|Drama"),
    ("It Follows", 2014, "Horror"),
    ("Mad Max: Fury Road", 2015, "Action|Adventure|Sci-Fi|Thriller"),
    ("Inside Out", 2015, "Adventure|Animation|Children|Comedy|Drama|Fantasy"),
    ("The Martian", 2015, "Adventure|Drama|Sci-Fi"),
    ("Ex Machina", 2015, "Drama|Sci-Fi|Thriller"),
    ("The Revenant", 2015, "Adventure|Drama"),
    ("Arrival", 2016, "Sci-Fi"),
    ("La La Land", 2016, "Comedy|Drama|Romance"),
    ("Zootopia", 2016, "Action|Adventure|Animation|Children|Comedy"),
    ("Your Name.", 2016, "Animation|Drama|Fantasy|Romance"),
    ("Hell or High Water", 2016, "Crime|Drama|Western"),
    ("Get Out", 2017, "Horror"),
    ("Blade Runner 2049", 2017, "Sci-Fi"),
    ("Dunkirk", 2017, "Action|Drama|Thriller|War"),
    ("Coco", 2017, "Adventure|Animation|Children"),
    ("Three Billboards Outside Ebbing, Missouri", 2017, "Crime|Drama"),
    ("Logan", 2017, "Action|Sci-Fi"),
    ("Baby Driver", 2017, "Action|Crime"),
    ("A Quiet Place", 2018, "Drama|Horror|Thriller"),
    ("Spider-Man: Into the Spider-Verse", 2018, "Action|Adventure|Animation|Sci-Fi"),
    ("Hereditary", 2018, "Horror|Mystery|Thriller"),
    ("Avengers: Infinity War", 2018, "Action|Adventure|Sci-Fi"),
    ("Parasite", 2019, "Comedy|Drama"),
    ("Knives Out", 2019, "Comedy|Crime|Drama|Mystery"),
    ("Joker", 2019, "Crime|Drama|Thriller"),
    ("1917", 2019, "War"),
    ("Avengers: Endgame", 2019, "Action|Adventure|Sci-Fi"),
]


def era_label(era: tuple[int, int]) -> str:
    return f"{era[0]}-{era[1]}"


def taste_genres() -> list[str]:
    """Genres a user may have as a favourite: common enough and not too broad (sorted)."""
    counts = Counter(g for _, _, gs in MOVIES for g in gs.split("|"))
    return sorted(g for g, n in counts.items() if n >= MIN_GENRE_MOVIES and g not in NOT_A_TASTE)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def generate(seed: int = SEED, n_users: int = N_USERS) -> dict[str, list]:
    """The demo as rows: ``{"movies": [...], "ratings": [...], "tastes": [...]}``."""
    rng = random.Random(seed)
    genres = [set(gs.split("|")) for _, _, gs in MOVIES]
    years = [y for _, y, _ in MOVIES]
    # Popularity (how often a movie gets watched) and quality (how much it is liked).
    popularity = [math.exp(rng.gauss(0.0, 1.0)) for _ in MOVIES]
    quality = [rng.gauss(0.0, 0.5) for _ in MOVIES]
    tg = taste_genres()

    ratings: list[tuple[int, int, float, int]] = []
    tastes: list[tuple[int, str, str]] = []
    for user_id in range(1, n_users + 1):
        favs = sorted(rng.sample(tg, 1 if rng.random() < 0.55 else 2))
        era = ERAS[rng.randrange(len(ERAS))]
        tastes.append((user_id, "|".join(favs), era_label(era)))
        n = MIN_RATINGS + int((MAX_RATINGS - MIN_RATINGS) * rng.random() ** 1.5)
        bias = rng.gauss(0.0, 0.3)
        # Which movies the user rates: weighted sampling without replacement
        # (Efraimidis-Spirakis keys), weight = popularity x taste match.
        keyed = []
        for m in range(len(MOVIES)):
            gm = bool(genres[m] & set(favs))
            em = era[0] <= years[m] <= era[1]
            w = popularity[m] * (1.0 + 3.0 * gm + 1.0 * em)
            keyed.append((rng.random() ** (1.0 / w), m, gm, em))
        keyed.sort(reverse=True)
        t = T0 + rng.randrange(T_SPAN)
        rows = []
        for _, m, gm, em in keyed[:n]:
            p_like = _sigmoid(-1.5 + 2.9 * gm + 1.2 * em + 0.8 * quality[m] + bias)
            if rng.random() < p_like:
                rating = 5.0 if rng.random() < 0.3 + 0.3 * (gm and em) else 4.0
            else:
                r = rng.random()
                rating = 1.0 if r < 0.3 else (2.0 if r < 0.8 else 3.0)
            t += rng.randrange(30, 3 * 86_400)
            rows.append((user_id, m + 1, rating, t))
        rows.sort(key=lambda row: row[1])
        ratings.extend(rows)

    movies = [(i + 1, f"{title} ({year})", gs) for i, (title, year, gs) in enumerate(MOVIES)]
    return {"movies": movies, "ratings": ratings, "tastes": tastes}


def _csv(header: list[str], rows: list) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _readme(data: dict[str, list]) -> bytes:
    n_ratings = len(data["ratings"])
    likes = sum(1 for r in data["ratings"] if r[2] >= 3.0)
    text = f"""# rbm-tui demo dataset (SYNTHETIC)

This folder is a small **synthetic** dataset bundled with rbm-tui so that the app works
before anything is downloaded. It is **not MovieLens data** and not real people's ratings.

- The {len(data["movies"])} movies are real, well-known films; their titles, years and
  genres are public facts.
- The {len(data["tastes"])} users and their {n_ratings} ratings are invented by
  `scripts/make_demo.py` (seed {SEED}); rerunning it writes these exact bytes.

## How the users were made

Each user has one or two favourite genres and a preferred era (`tastes.csv`). They rate
{MIN_RATINGS}-{MAX_RATINGS} movies, picked with a bias to popular movies and to their taste.
Movies in a favourite genre are mostly liked (4-5 stars), more so from the preferred era;
the others get mostly 1-3 stars, with noise. {likes / n_ratings:.0%} of the ratings are 3 or
more. A recommender trained on these ratings should recover the planted tastes: a user who
likes Westerns should be recommended Westerns.

## Files (MovieLens "latest" layout, UTF-8)

- `ratings.csv`: `userId,movieId,rating,timestamp` (ratings 1-5, timestamps in seconds)
- `movies.csv`: `movieId,title,genres` (title with the year in parentheses, genres
  `|`-separated, titles with commas quoted)
- `tastes.csv`: `userId,genres,era`: each user's planted favourite genres (`|`-separated)
  and preferred era (`FIRST-LAST` years)

Licence: the synthetic ratings are part of rbm-tui (MIT).
"""
    return text.encode("utf-8")


def write(out: Path, seed: int = SEED, n_users: int = N_USERS) -> list[Path]:
    """Write the demo files into ``out`` (created if needed); returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = generate(seed, n_users)
    files = {
        "movies.csv": _csv(["movieId", "title", "genres"], data["movies"]),
        "ratings.csv": _csv(
            ["userId", "movieId", "rating", "timestamp"],
            [(u, m, f"{r:.1f}", t) for u, m, r, t in data["ratings"]],
        ),
        "tastes.csv": _csv(["userId", "genres", "era"], data["tastes"]),
        "README.md": _readme(data),
    }
    written = []
    for name, blob in files.items():
        p = out / name
        p.write_bytes(blob)
        written.append(p)
    return written


def main(argv: list[str] | None = None) -> int:
    default = Path(__file__).resolve().parent.parent / "data" / "demo"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=default, help=f"output folder ({default})")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--users", type=int, default=N_USERS)
    args = ap.parse_args(argv)
    for p in write(args.out, args.seed, args.users):
        print(f"{p}  {p.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
