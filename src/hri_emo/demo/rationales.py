"""Human rationales for the demo corpus: the words an annotator marks as the emotion's evidence.

ERASER-style marks, used only to measure how plausible the models' explanations are (agreement of
attributions with these words); they are never used for training or model selection.
"""

from __future__ import annotations

_STRIP = ",.!?;:"

RATIONALES: dict[str, list[str]] = {
    # happy
    "I am so happy to see you again": ["happy"],
    "This is wonderful news, thank you so much": ["wonderful"],
    "What a lovely surprise, I love it": ["lovely", "love"],
    "We won the game, this is fantastic": ["won", "fantastic"],
    "I feel great today, everything is going well": ["great", "well"],
    "Thank you, you made my day": ["made", "day"],
    "That was the best party ever": ["best"],
    "I am delighted with how it turned out": ["delighted"],
    "Hooray, we finally finished the project": ["Hooray", "finally"],
    "You are amazing, I am so proud of you": ["amazing", "proud"],
    "This is the most beautiful gift I have ever had": ["beautiful"],
    "I am thrilled that you could come": ["thrilled"],
    "I got the job, I am so excited": ["excited"],
    "This cake is delicious, thank you": ["delicious"],
    "We are going on holiday tomorrow, yay": ["holiday", "yay"],
    "Look at the puppy, it is so cute": ["cute"],
    "I passed the exam with top marks": ["passed", "top"],
    "It is a perfect sunny day for a picnic": ["perfect", "sunny"],
    "Your message made me laugh so much": ["laugh"],
    "I am glad everything worked out fine": ["glad"],
    "What fun we had at the beach": ["fun"],
    "I adore this song, let us dance": ["adore", "dance"],
    "My sister had a healthy baby girl": ["healthy", "baby"],
    "We finally bought our dream house": ["finally", "dream"],
    "What a joy it is to be here with friends": ["joy"],
    "I cannot stop smiling, this is brilliant": ["smiling", "brilliant"],
    "I am overjoyed, it worked perfectly": ["overjoyed", "perfectly"],
    "Such a cheerful morning, I feel wonderful": ["cheerful", "wonderful"],
    # sad
    "I miss her so much since she left": ["miss", "left"],
    "Nobody came to my birthday this year": ["Nobody"],
    "I lost my job and I do not know what to do": ["lost", "job"],
    "My old dog died last night": ["died"],
    "I feel so lonely in this empty house": ["lonely", "empty"],
    "Everything I tried has failed again": ["failed"],
    "I am heartbroken, he is never coming back": ["heartbroken", "never"],
    "It hurts to remember those days": ["hurts"],
    "I cried all night after the funeral": ["cried", "funeral"],
    "There is no hope left for us": ["no", "hope"],
    "I feel so tired and sad all the time": ["tired", "sad"],
    "We had to say goodbye forever": ["goodbye", "forever"],
    "The house feels empty without the children": ["empty"],
    "I wish I could see my father one more time": ["wish", "one", "more", "time"],
    "Our team lost and I feel awful": ["lost", "awful"],
    "She did not even say goodbye": ["not", "even", "goodbye"],
    "I am disappointed and deeply hurt": ["disappointed", "hurt"],
    "Nobody remembers me anymore": ["Nobody", "anymore"],
    "The doctor said there is nothing left to do": ["nothing", "left"],
    "I spent the holidays all by myself": ["by", "myself"],
    "My heart aches when I think of him": ["heart", "aches"],
    "I feel empty and hopeless tonight": ["empty", "hopeless"],
    "We lost everything in the fire": ["lost", "everything", "fire"],
    "I was rejected again, it is hopeless": ["rejected", "hopeless"],
    "I am sorry, I let everyone down": ["sorry", "let", "down"],
    "My best friend moved away and I am alone": ["moved", "away", "alone"],
    "I am grieving and nothing helps": ["grieving", "nothing", "helps"],
    "It is a gloomy and miserable day for me": ["gloomy", "miserable"],
    # angry
    "Stop touching my things right now": ["Stop", "right", "now"],
    "I am furious that you lied to me again": ["furious", "lied"],
    "Get out of my room immediately": ["Get", "out", "immediately"],
    "This is outrageous, I demand an answer": ["outrageous", "demand"],
    "How dare you speak to me like that": ["dare"],
    "I hate it when you ignore me": ["hate", "ignore"],
    "You broke it again, you stupid machine": ["broke", "stupid"],
    "I am sick and tired of waiting for you": ["sick", "tired"],
    "Shut up and listen to me": ["Shut", "up"],
    "That is the last time you insult me": ["last", "time", "insult"],
    "I am so angry I could scream": ["angry", "scream"],
    "Do not you dare walk away from me": ["dare"],
    "Give me back my phone this instant": ["Give", "back", "instant"],
    "I told you a hundred times to stop": ["hundred", "times", "stop"],
    "Why do you never listen, it drives me crazy": ["never", "drives", "crazy"],
    "This service is a disgrace": ["disgrace"],
    "Do not lie to my face again": ["lie", "face"],
    "Get your hands off my bag": ["hands", "off"],
    "I will not tolerate this insult": ["not", "tolerate", "insult"],
    "You cheated and I am furious": ["cheated", "furious"],
    "Stop wasting my time, you fool": ["wasting", "fool"],
    "I am fuming, this is ridiculous": ["fuming", "ridiculous"],
    "You have no right to yell at me": ["no", "right", "yell"],
    "Enough, I have had it with you": ["Enough", "had", "it"],
    "You ruined everything, I am livid": ["ruined", "livid"],
    "This is unacceptable and I am fed up": ["unacceptable", "fed", "up"],
    "Leave me alone, I am mad at you": ["Leave", "alone", "mad"],
    "You idiot, you wrecked my car": ["idiot", "wrecked"],
}


def rationale_mask(sentence: str) -> list[bool]:
    """One flag per whitespace word of `sentence`: True where the word is a marked rationale word.

    Words are compared with ",.!?;:" stripped, case-insensitively; a sentence without rationales
    (a neutral one) gives all False.
    """
    marked = {word.lower() for word in RATIONALES.get(sentence, [])}
    return [word.strip(_STRIP).lower() in marked for word in sentence.split()]
