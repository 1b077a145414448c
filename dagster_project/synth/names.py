"""Name pools and initial frequencies of a UK-like population (facts, not code).

Forenames and surnames are drawn in two steps, an initial letter from a skewed frequency
table, then a name from that letter's pool, so that the initial distribution (which is
what the NTA linkage rule sees) is a knob independent of the pools' spelling variety.
The pools hold the occasional apostrophe, hyphen and non-ASCII letter real PNC names have.

Exports `MALE_FORENAMES`, `FEMALE_FORENAMES`, `SURNAMES` (letter -> (base weight, pool)).
"""

# Base weights: rough shares of initials among people born 1955-1990 in England.
MALE_FORENAMES = {
    "A": (0.080, ["Andrew", "Anthony", "Adam", "Alan", "Alexander", "Aaron"]),
    "B": (0.015, ["Barry", "Brian", "Ben", "Bradley"]),
    "C": (0.070, ["Christopher", "Craig", "Carl", "Colin", "Chris", "Connor"]),
    "D": (0.110, ["David", "Daniel", "Darren", "Dean", "Dale", "Dominic"]),
    "E": (0.010, ["Edward", "Eric", "Émile", "Elliot"]),
    "F": (0.005, ["Francis", "Frank", "Fraser"]),
    "G": (0.040, ["Gary", "Graham", "Gavin", "Glen"]),
    "H": (0.005, ["Henry", "Harry", "Howard"]),
    "I": (0.015, ["Ian", "Imran", "Ivan"]),
    "J": (0.140, ["James", "John", "Jason", "Jamie", "Jonathan", "Joseph", "Justin"]),
    "K": (0.035, ["Kevin", "Keith", "Karl", "Kieran"]),
    "L": (0.035, ["Lee", "Lewis", "Liam", "Łukasz", "Luke"]),
    "M": (0.120, ["Mark", "Michael", "Matthew", "Martin", "Mohammed", "Marcus"]),
    "N": (0.030, ["Neil", "Nicholas", "Nathan", "Nigel"]),
    "O": (0.005, ["Oliver", "Owen", "Øystein", "Omar"]),
    "P": (0.080, ["Paul", "Peter", "Philip", "Patrick"]),
    "R": (0.060, ["Richard", "Robert", "Ryan", "Russell", "Ricky", "Roy"]),
    "S": (0.090, ["Stephen", "Simon", "Steven", "Stuart", "Scott", "Sean"]),
    "T": (0.030, ["Thomas", "Timothy", "Terry", "Tony", "Tariq"]),
    "V": (0.002, ["Vincent", "Victor"]),
    "W": (0.020, ["William", "Wayne", "Warren"]),
    "Y": (0.001, ["Yusuf", "Yasin"]),
    "Z": (0.001, ["Zak", "Zoltán"]),
}

FEMALE_FORENAMES = {
    "A": (0.070, ["Amanda", "Angela", "Alison", "Amy", "Anna"]),
    "B": (0.010, ["Beverley", "Bridget"]),
    "C": (0.080, ["Claire", "Catherine", "Carol", "Charlotte", "Chloe"]),
    "D": (0.050, ["Donna", "Dawn", "Debbie", "Danielle"]),
    "E": (0.050, ["Emma", "Elizabeth", "Emily", "Élodie"]),
    "F": (0.005, ["Fiona", "Faye"]),
    "G": (0.020, ["Gemma", "Gillian"]),
    "H": (0.040, ["Helen", "Hayley", "Hannah"]),
    "I": (0.005, ["Isabel", "Irene"]),
    "J": (0.100, ["Joanne", "Julie", "Jennifer", "Jane", "Jodie"]),
    "K": (0.080, ["Karen", "Kelly", "Kerry", "Kim", "Katie"]),
    "L": (0.100, ["Lisa", "Louise", "Laura", "Lorraine", "Leanne"]),
    "M": (0.070, ["Michelle", "Marie", "Mary", "Melanie", "Margaret"]),
    "N": (0.060, ["Nicola", "Natalie", "Nadia"]),
    "O": (0.002, ["Olivia", "Orla"]),
    "P": (0.010, ["Paula", "Patricia"]),
    "R": (0.040, ["Rachel", "Rebecca", "Rosie"]),
    "S": (0.120, ["Sarah", "Samantha", "Sharon", "Susan", "Stacey", "Sophie"]),
    "T": (0.050, ["Tracey", "Tina", "Teresa"]),
    "V": (0.020, ["Victoria", "Vicky"]),
    "W": (0.005, ["Wendy"]),
    "Y": (0.005, ["Yvonne"]),
    "Z": (0.010, ["Zoë", "Zoe"]),
}

SURNAMES = {
    "A": (0.020, ["Allen", "Anderson", "Ahmed", "Atkinson"]),
    "B": (0.090, ["Brown", "Baker", "Bell", "Bennett", "Barker"]),
    "C": (0.070, ["Clarke", "Cooper", "Campbell", "Carter", "Collins"]),
    "D": (0.040, ["Davies", "Dixon", "Doyle", "Dunn"]),
    "E": (0.015, ["Evans", "Edwards", "Ellis"]),
    "F": (0.035, ["Fisher", "Foster", "Fletcher"]),
    "G": (0.050, ["Green", "Griffiths", "Gray", "Gallagher"]),
    "H": (0.080, ["Hughes", "Hall", "Harris", "Hill", "Hussain"]),
    "I": (0.003, ["Ingram", "Iqbal"]),
    "J": (0.030, ["Jones", "Jackson", "Johnson", "James"]),
    "K": (0.025, ["King", "Kelly", "Khan", "Kowalski"]),
    "L": (0.040, ["Lewis", "Lee", "Lawrence", "Lowe"]),
    "M": (0.080, ["Moore", "Martin", "Morris", "Mitchell", "McDonald", "Murphy"]),
    "N": (0.020, ["Nelson", "Newton", "Nowak"]),
    "O": (0.012, ["O'Brien", "O'Neill", "Owen", "Osborne", "Ødegaard"]),
    "P": (0.060, ["Patel", "Parker", "Phillips", "Price"]),
    "Q": (0.002, ["Quinn"]),
    "R": (0.050, ["Roberts", "Robinson", "Richards", "Reid"]),
    "S": (0.100, ["Smith", "Smith-Jones", "Shaw", "Scott", "Stevens", "Sullivan"]),
    "T": (0.040, ["Taylor", "Thomas", "Turner", "Thompson"]),
    "U": (0.002, ["Underwood"]),
    "V": (0.004, ["Vaughan", "Vickers"]),
    "W": (0.070, ["Wilson", "Wood", "Walker", "White", "Wright", "Ward"]),
    "Y": (0.005, ["Young", "Yates"]),
    "Z": (0.001, ["Zieliński"]),
}
