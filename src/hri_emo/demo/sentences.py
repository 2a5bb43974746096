"""The demo corpus's sentences: emotional wording per emotion, and neutral wording.

Each list is split by position into training and test sentences (`TEST_SENTENCES` last ones), so
the test split hears wording the models never saw as well as voices they never heard.
"""

from __future__ import annotations

EMOTIONAL_SENTENCES: dict[str, list[str]] = {
    "happy": [
        "I am so happy to see you again",
        "This is wonderful news, thank you so much",
        "What a lovely surprise, I love it",
        "We won the game, this is fantastic",
        "I feel great today, everything is going well",
        "Thank you, you made my day",
        "That was the best party ever",
        "I am delighted with how it turned out",
        "Hooray, we finally finished the project",
        "You are amazing, I am so proud of you",
        "This is the most beautiful gift I have ever had",
        "I am thrilled that you could come",
        "What a joy it is to be here with friends",
        "I cannot stop smiling, this is brilliant",
        "I am overjoyed, it worked perfectly",
        "Such a cheerful morning, I feel wonderful",
    ],
    "sad": [
        "I miss her so much since she left",
        "Nobody came to my birthday this year",
        "I lost my job and I do not know what to do",
        "My old dog died last night",
        "I feel so lonely in this empty house",
        "Everything I tried has failed again",
        "I am heartbroken, he is never coming back",
        "It hurts to remember those days",
        "I cried all night after the funeral",
        "There is no hope left for us",
        "I feel so tired and sad all the time",
        "We had to say goodbye forever",
        "I am sorry, I let everyone down",
        "My best friend moved away and I am alone",
        "I am grieving and nothing helps",
        "It is a gloomy and miserable day for me",
    ],
    "angry": [
        "Stop touching my things right now",
        "I am furious that you lied to me again",
        "Get out of my room immediately",
        "This is outrageous, I demand an answer",
        "How dare you speak to me like that",
        "I hate it when you ignore me",
        "You broke it again, you stupid machine",
        "I am sick and tired of waiting for you",
        "Shut up and listen to me",
        "That is the last time you insult me",
        "I am so angry I could scream",
        "Do not you dare walk away from me",
        "You ruined everything, I am livid",
        "This is unacceptable and I am fed up",
        "Leave me alone, I am mad at you",
        "You idiot, you wrecked my car",
    ],
}

NEUTRAL_SENTENCES: list[str] = [
    "Please put the red cup on the kitchen table",
    "The meeting starts at ten in the morning",
    "Turn left at the next corner",
    "The train leaves from platform four",
    "I will take the bus to the office",
    "The box is on the second shelf",
    "Open the window in the living room",
    "We need two liters of milk and some bread",
    "The report has twelve pages",
    "Bring me the blue folder from the desk",
    "The store closes at six on weekdays",
    "My phone number ends with seven",
    "The robot moves to the charging station",
    "Set the timer for twenty minutes",
    "The keys are next to the door",
    "Read the instructions on the back",
    "The parcel arrives on Thursday",
    "Move the chair closer to the wall",
    "The printer is in the next room",
    "Please write your name on the form",
    "The elevator is at the end of the hall",
    "We walked to the station and took the train",
    "The lamp is on the small table",
    "Put the books back on the shelf",
]

TEST_SENTENCES = 4  # the last sentences of each list are heard only in the test split


def split_sentences(sentences: list[str], split: str) -> list[str]:
    """The sentences of `split` ("train" or "test")."""
    return sentences[-TEST_SENTENCES:] if split == "test" else sentences[:-TEST_SENTENCES]
