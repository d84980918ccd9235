"""Free text -> taxonomy ids: skills, certificates, job titles, posting hints."""

from recommender.normalise.hints import PostingHints, parse_posting_text
from recommender.normalise.phrases import CertificateNormaliser, Match, SkillNormaliser
from recommender.normalise.text import clean_text, make_key, split_cell, strip_noise
from recommender.normalise.titles import OccupationMatch, TitleClassifier

__all__ = [
    "CertificateNormaliser",
    "Match",
    "OccupationMatch",
    "PostingHints",
    "SkillNormaliser",
    "TitleClassifier",
    "clean_text",
    "make_key",
    "parse_posting_text",
    "split_cell",
    "strip_noise",
]
