"""Seeded generator of realistic exocli workspaces for the benchmarks.

    generate(root, n_claims, n_refs, seed)   -> a complete workspace (text only, no database)
    write_claims_csv(path, n_claims, n_refs, seed)  -> the same claims as `query --format csv`

Distributions follow the shipped evidence (refs/studies/) over the real vocabularies
(db/vocab/*.toml): sources skewed like the review (BMSC, UCMSC, MSC, NSC, ADSC first),
1-3 effects per claim, cargo mostly miRNA or none, miRNA names from a few hundred
families with Zipf-like popularity, pathway axes from the pathways vocabulary joined
with "/", and curator notes made of random words (something for full-text search).

    write_reference_files(bib, printed, n_refs, seed)  -> the same references as a .bib file and
                                                          as a printed numbered Vancouver list

Run directly for a one-off workspace:  python bench/generate.py DIR --claims 10000 --refs 500
or for the reference files:  python bench/generate.py --refs 10000 --bib refs.bib --printed refs.txt
"""

from __future__ import annotations

import argparse
import csv
import itertools
import re
import shutil
import sys
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

from exocli.fields import CLAIM_KEYS, LIST_KEYS
from exocli.query import CLAIM_COLUMNS

REPO = Path(__file__).resolve().parents[1]
VOCAB_DIR = REPO / "db" / "vocab"
VOCAB_NAMES = ("sources", "effects", "cargo-types", "pathways")
GENERATOR_VERSION = 2  # bump when the output for a given seed changes

# Weights over the real vocabulary codes (codes missing here get weight 1).
SOURCE_WEIGHTS = {
    "BMSC": 25,
    "UCMSC": 15,
    "MSC": 14,
    "NSC": 10,
    "ADSC": 9,
    "iPSC": 5,
    "PMSC": 4,
    "DPSC": 3,
    "AMSC": 3,
    "stem-cell": 2,
    "MenSC": 2,
    "M2-microglia": 2,
    "iPSC-NSC": 2,
    "ESC": 2,
    "non-stem": 1,
}
EFFECT_WEIGHTS = {
    "anti-inflammatory": 30,
    "functional-recovery": 20,
    "anti-apoptosis": 14,
    "neuroregeneration": 12,
    "immunomodulation": 10,
    "angiogenesis": 10,
    "bscb-repair": 6,
    "autophagy": 6,
    "antioxidant": 5,
    "anti-ferroptosis": 4,
    "anti-pyroptosis": 4,
    "anti-scarring": 4,
    "safety": 1,
}
EFFECT_COUNT_WEIGHTS = {1: 55, 2: 33, 3: 12}
CARGO_TYPE_WEIGHTS = {
    "miRNA": 45,
    "none": 40,
    "protein": 5,
    "lncRNA": 4,
    "circRNA": 3,
    "mRNA": 1.5,
    "small-molecule": 1.5,
}
OTHER_CARGO = {
    "lncRNA": ["LRRC75A-AS1", "MALAT1", "H19", "NEAT1", "XIST", "GAS5", "TUG1", "MEG3", "HOTAIR", "SNHG5"],
    "circRNA": ["circ-Wdfy3", "circPTPN4", "circRps5", "circHIPK3", "circ-0000288", "circAkap17b"],
    "protein": ["HGF", "VEGF", "BDNF", "GDNF", "TSG-6", "MFG-E8", "TIMP2", "CD73", "IGF-1", "NGF", "IL-10"],
    "mRNA": ["IL-10 mRNA", "NGF mRNA", "BDNF mRNA", "VEGF mRNA"],
    "small-molecule": [
        "curcumin",
        "resveratrol",
        "berberine",
        "melatonin",
        "methylprednisolone",
        "quercetin",
    ],
}
# Families seen in the review first (most cited), then a long tail of miRBase numbers.
HEAD_FAMILIES = [
    "miR-21",
    "miR-146a",
    "miR-126",
    "miR-216a",
    "miR-210",
    "miR-124",
    "miR-133b",
    "let-7b",
    "miR-17-92",
    "miR-181c",
    "miR-22",
    "miR-29b",
    "miR-145",
    "miR-199a",
    "miR-138",
    "miR-9",
    "miR-494",
    "miR-455",
    "miR-26a",
    "miR-155",
    "let-7a",
    "miR-223",
    "miR-374",
    "miR-499",
    "miR-501",
    "miR-219a",
    "miR-423",
    "miR-338",
    "miR-544",
    "miR-381",
]
SPECIES_PREFIX_WEIGHTS = {"": 88, "hsa-": 6, "rno-": 4, "mmu-": 2}
PATHWAY_EXTRA = [
    "PELI1",
    "LRIG3",
    "PTEN",
    "SOCS3",
    "STAT3",
    "IRAK1",
    "TRAF6",
    "HMGB1",
    "SMAD2",
    "HMGA2",
    "YY1",
    "MLCK",
    "CREB",
    "MEK",
    "FGF2",
    "HDAC5",
    "SPRED1",
    "PIK3R2",
    "FDFT1",
    "BAX",
    "BCL-2",
    "Caspase-3",
    "AMPK",
    "SIRT1",
    "Beclin-1",
    "LC3",
]
ENGINEERING = [
    ("miRNA loading", 8),
    ("hypoxia preconditioning", 8),
    ("miRNA modification", 6),
    ("miRNA engineering", 4),
    ("hydrogel", 4),
    ("GelMA hydrogel", 2),
    ("adhesive hydrogel", 2),
    ("drug loading", 2),
    ("lncRNA transfection", 2),
    ("IGF-1 exposure", 1),
    ("hyperbaric oxygen", 1),
    ("RGD targeting", 1),
    ("3D culture", 2),
    ("CD146+CD271+ subpopulation", 1),
    ("microneedle patch", 1),
]
SECTIONS = [
    ("Introduction", 4),
    ("MSC-derived exosomes > Anti-inflammatory effects > Targeting key inflammatory pathways", 10),
    ("MSC-derived exosomes > Inhibition of apoptosis and promotion of nerve regeneration", 9),
    ("MSC-derived exosomes > Angiogenesis and BSCB repair", 7),
    ("MSC-derived exosomes > Anti-inflammatory effects > Reprogramming the immune landscape", 5),
    ("MSC-derived exosomes > Anti-inflammatory effects > Other effects", 3),
    ("NSC-derived exosomes > Apoptosis and autophagy regulation", 3),
    ("NSC-derived exosomes > Neuroinflammation suppression", 2),
    ("NSC-derived exosomes > Angiogenesis promotion", 1),
    ("iPSC-derived exosomes", 3),
    ("DPSC-derived exosomes", 2),
    ("From bench to bedside: bridging the translational gap", 1),
    ("From bench to bedside: bridging the translational gap > Future directions", 5),
]
SPECIES = [("not stated", 45), ("rat", 35), ("mouse", 15), ("human", 5)]
MODELS = [
    ("not stated", 40),
    ("in vivo", 35),
    ("in vivo and in vitro", 12),
    ("in vitro", 10),
    ("clinical", 3),
]
INJURIES = [
    ("SCI", 70),
    ("acute SCI", 6),
    ("contusion SCI", 6),
    ("compression SCI", 4),
    ("hemisection SCI", 3),
    ("complete subacute SCI", 2),
    ("LPS-induced inflammation", 3),
    ("BV-2 cell inflammation (in vitro)", 2),
    ("PC12 cell injury model (in vitro)", 2),
    ("cerebral ischemia/reperfusion", 1),
    ("not stated", 1),
]
# The study context as a curator words it -> the vocabulary codes a claim holds (what the
# record's free text of before the vocabularies reads as; "not stated" is no term).
CONTEXT_TERMS = {
    "not stated": [],
    "rat": ["rat"],
    "mouse": ["mouse"],
    "human": ["human"],
    "in vivo": ["in vivo"],
    "in vivo and in vitro": ["in vivo", "in vitro"],
    "in vitro": ["in vitro"],
    "clinical": ["clinical"],
    "SCI": ["SCI"],
    "acute SCI": ["SCI"],
    "contusion SCI": ["SCI"],
    "compression SCI": ["SCI"],
    "hemisection SCI": ["SCI"],
    "complete subacute SCI": ["SCI"],
    "LPS-induced inflammation": ["neuroinflammation"],
    "BV-2 cell inflammation (in vitro)": ["neuroinflammation"],
    "PC12 cell injury model (in vitro)": [],
    "cerebral ischemia/reperfusion": ["ischemic stroke"],
}
# ... and the model the injury's wording names, beside the model drawn
INJURY_MODELS = {
    "contusion SCI": ["contusion"],
    "compression SCI": ["compression"],
    "hemisection SCI": ["hemisection"],
    "LPS-induced inflammation": ["LPS stimulation"],
    "BV-2 cell inflammation (in vitro)": ["LPS stimulation"],
    "cerebral ischemia/reperfusion": ["MCAO"],
}
ROUTES = [
    ("not stated", 60),
    ("intravenous", 15),
    ("tail vein injection", 6),
    ("intrathecal", 8),
    ("local hydrogel", 8),
    ("local injection", 2),
    ("local microneedle patch", 1),
]
CURATORS = [
    ("exocli seed curation", 5),
    ("M. Lin", 3),
    ("A. Rossi", 2),
    ("Y. Chen", 2),
    ("K. Okafor", 1),
    ("S. Novak", 1),
]
OUTCOME_MEASURES = ["BBB", "BMS", "Basso score", "inclined plane angle", "lesion volume", "TUNEL+ cells"]
NOTE_WORDS = """
microglia macrophage astrocyte neuron oligodendrocyte axon myelin scar lesion cavity contusion
compression hemisection edema hemorrhage vasculature endothelial pericyte barrier permeability
cytokine chemokine interleukin tumor necrosis interferon polarization phenotype activation
inflammasome pyroptosis ferroptosis apoptosis autophagy necroptosis mitophagy senescence oxidative
mitochondria lysosome endosome vesicle uptake internalization tropism biodistribution clearance
hydrogel scaffold patch microneedle injection infusion intrathecal intravenous subcutaneous
dose timing window acute subacute chronic recovery locomotion gait sensory motor bladder pain
spasticity allodynia hyperalgesia electrophysiology evoked potential conduction regeneration
sprouting plasticity synapse dendrite growth cone guidance neurite outgrowth survival viability
proliferation migration differentiation stemness passage culture hypoxia normoxia preconditioning
priming transfection overexpression knockdown silencing inhibitor agonist antagonist sequencing
proteomics transcriptomics lipidomics isolation ultracentrifugation filtration chromatography
nanoparticle tracking electron microscopy western blot immunofluorescence qPCR ELISA flow cytometry
sham vehicle control placebo blinded randomized cohort sample size power heterogeneity bias
replication reproducibility batch variability purity potency yield storage freezing stability
rat mouse primate porcine canine human patient trial safety toxicity immunogenicity tumorigenicity
thoracic cervical lumbar segment spinal cord injury trauma ischemia reperfusion glutamate calcium
neurotrophic factor angiogenic vascular tight junction occludin claudin zonula pericytes leakage
dorsal ventral horn white gray matter corticospinal tract rubrospinal serotonergic fibers relay
""".split()


# --- vocabularies ------------------------------------------------------------------------------


@dataclass
class Term:
    code: str
    synonyms: list[str]
    parent: str | None


def load_vocab(name: str, vocab_dir: Path = VOCAB_DIR) -> list[Term]:
    with (vocab_dir / f"{name}.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return [Term(t["code"], list(t.get("synonyms", [])), t.get("parent")) for t in data.get("term", [])]


def _weighted(codes: Sequence[str], weights: dict[str, float]) -> tuple[list[str], list[float]]:
    population = list(codes)
    cumulative = list(itertools.accumulate(float(weights.get(code, 1)) for code in population))
    return population, cumulative


def _pairs(pairs: Sequence[tuple[str, float]]) -> tuple[list[str], list[float]]:
    return [p for p, _ in pairs], list(itertools.accumulate(w for _, w in pairs))


# --- miRNA pool ---------------------------------------------------------------------------------


def mirna_families(rng: Random, count: int = 400) -> list[str]:
    """A few hundred families: the review's first, then miRBase-like numbers (Zipf order)."""
    families = list(HEAD_FAMILIES)
    seen = set(families)
    numbers = list(range(1, 1000))
    rng.shuffle(numbers)
    for number in numbers:
        if len(families) >= count:
            break
        name = f"miR-{number}"
        if name not in seen:
            seen.add(name)
            families.append(name)
    for letter in "cdefgi":
        families.append(f"let-7{letter}")
    return families


def mirna_wording(rng: Random, family: str) -> str:
    """A written name in that family: miR-21, miR-21-5p, miR-21a-5p, hsa-miR-21-3p, let-7b-5p..."""
    if family == "miR-17-92":
        return rng.choice(["miR-17-92", "miR-17-92 cluster", "miR-17~92"])
    base = family
    has_letter = base[-1].isalpha() and base[-1].islower() and not base.startswith("let-7")
    if not has_letter and not base.startswith("let-") and rng.random() < 0.2:
        base += rng.choice("ab")
    roll = rng.random()
    if roll < 0.05:
        base += rng.choice(["-1", "-2"])
    arm_roll = rng.random()
    arm = "-5p" if arm_roll < 0.45 else "-3p" if arm_roll < 0.6 else ""
    prefix = rng.choices(list(SPECIES_PREFIX_WEIGHTS), weights=list(SPECIES_PREFIX_WEIGHTS.values()))[0]
    return prefix + base + arm


# --- records ------------------------------------------------------------------------------------


FAMILY_NAMES = """
Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng Liang Xie
Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du Ye Cheng Wei Su Lu Ding
Ren Shen Yao Jin Fan Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Smith Johnson Williams Brown Jones
Miller Davis Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore
Jackson Martin Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green
Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins
Edwards Stewart Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Gomez Kelly Howard
Ward Cox Diaz Richardson Wood Watson Brooks Bennett Gray James Reyes Cruz Hughes Price Myers Long
Foster Sanders Ross Morales Powell Sullivan Russell Ortiz Jenkins Gutierrez Perry Butler Barnes Fisher
Henderson Coleman Simmons Patterson Jordan Reynolds Hamilton Graham Kimura Tanaka Suzuki Sato Ito
Watanabe Yamamoto Nakamura Kobayashi Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti Costa
Silva Santos Oliveira Souza Pereira Ferreira Alves Ribeiro Carvalho Gomes Martins Rocha Almeida
Nowak Kowalski Wisniewski Ivanov Petrov Sidorov Popov Hansen Johansson Nielsen Jensen Larsen
Fehlings Badhiwala Tetzlaff Assinck Kwon Hachem Khalatbary Soleimani Mukhamedshina Jabermoradi
O’Driscoll De-Lazzari Van-der-Berg Al-Khatib El-Sayed Ben-David Müller Øster Dvořák Łukasz
""".split()
TITLE_SOURCES = [
    "Bone marrow mesenchymal stem cell-derived exosomes",
    "Human umbilical cord mesenchymal stem cell-derived exosomes",
    "Mesenchymal stem cell-derived extracellular vesicles",
    "Neural stem cell-derived exosomes",
    "Adipose-derived stem cell exosomes",
    "Placental mesenchymal stem cell-derived exosomes",
    "Induced pluripotent stem cell-derived exosomes",
    "Dental pulp stem cell-derived exosomes",
    "Hypoxia-preconditioned mesenchymal stem cell exosomes",
    "Engineered exosomes",
    "M2 microglia-derived exosomes",
    "Small extracellular vesicles",
]
TITLE_VERBS = [
    "promote",
    "attenuate",
    "alleviate",
    "enhance",
    "improve",
    "suppress",
    "ameliorate",
    "facilitate",
    "protect against",
    "modulate",
]
TITLE_OBJECTS = [
    "neuroinflammation",
    "functional recovery",
    "neuronal apoptosis",
    "microglial pyroptosis",
    "ferroptosis",
    "angiogenesis",
    "blood-spinal cord barrier disruption",
    "axonal regeneration",
    "glial scar formation",
    "oxidative stress",
    "macrophage polarization",
    "autophagy",
]
TITLE_TAILS = [
    "after spinal cord injury",
    "in rats with spinal cord injury",
    "following traumatic spinal cord injury",
    "in a mouse model of spinal cord injury",
    "after acute spinal cord contusion",
    "in vitro and in vivo",
]
TITLE_REVIEWS = [
    "Stem cell-derived exosomes for spinal cord injury: a systematic review",
    "Exosome-based therapies for spinal cord injury: current status and future perspectives",
    "Extracellular vesicles in neural repair: mechanisms and translation",
    "Cell-free therapy for spinal cord injury: a meta-analysis of preclinical studies",
    "MicroRNAs in spinal cord injury: from pathophysiology to therapy",
]
JOURNALS = [
    ("Stem Cell Res Ther", 10),
    ("J Nanobiotechnology", 6),
    ("J Neuroinflammation", 6),
    ("Neural Regen Res", 6),
    ("Int J Mol Sci", 5),
    ("Mol Neurobiol", 4),
    ("Cell Death Dis", 4),
    ("Front Cell Dev Biol", 4),
    ("Exp Neurol", 3),
    ("ACS Nano", 3),
    ("Bioact Mater", 3),
    ("Theranostics", 3),
    ("Oxid Med Cell Longev", 3),
    ("J Extracell Vesicles", 3),
    ("Cytotherapy", 2),
    ("Neurosurg Rev", 2),
    ("Cells", 2),
    ("Biomolecules", 2),
    ("Front Bioeng Biotechnol", 2),
    ("Mol Ther Nucleic Acids", 2),
    ("Neurochem Res", 2),
    ("Brain Res Bull", 2),
    ("Stem Cells Transl Med", 2),
    ("Spinal Cord", 2),
    ("Global Spine J", 1),
    ("Lancet Neurol", 1),
    ("Nat Neurosci", 1),
    ("Adv Drug Deliv Rev", 1),
    ("Biomaterials", 2),
    ("Tissue Cell", 1),
]


def _initials(rng: Random) -> str:
    n = rng.choices([1, 2, 3], weights=[45, 45, 10])[0]
    letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTWXYZ") for _ in range(n))
    if rng.random() < 0.03:
        letters = letters[0] + "-" + rng.choice("lLmMsS")
    return letters


def _family(rng: Random) -> str:
    name = FAMILY_NAMES[min(int(rng.paretovariate(0.9)) - 1, len(FAMILY_NAMES) - 1)]
    if rng.random() < 0.6:
        name = rng.choice(FAMILY_NAMES)
    return name.replace("-", " ") if name.startswith(("De-", "Van-")) else name


def reference_text(rng: Random, number: int, with_doi: bool) -> tuple[str, str, int]:
    """One Vancouver / NLM reference (what exocli's parser reads), its first author and year."""
    count = rng.choices([1, 2, 3, 4, 5, 6, 7], weights=[6, 8, 10, 10, 12, 30, 24])[0]
    families = [_family(rng) for _ in range(min(count, 6))]
    author_text = ", ".join(f"{f} {_initials(rng)}" for f in families) + (", et al" if count > 6 else "")
    if rng.random() < 0.15:
        title = rng.choice(TITLE_REVIEWS)
    else:
        title = f"{rng.choice(TITLE_SOURCES)} {rng.choice(TITLE_VERBS)} {rng.choice(TITLE_OBJECTS)}"
        if rng.random() < 0.4:
            title += f" via the {rng.choice(['TLR4/NF-κB', 'PI3K/AKT', 'NLRP3', 'Wnt/β-catenin', 'MAPK', 'NRF2/GPX4'])} pathway"
        if rng.random() < 0.35:
            title += f" by delivering {rng.choice(HEAD_FAMILIES)}"
        title += f" {rng.choice(TITLE_TAILS)}"
    if rng.random() < 0.03:
        title += "?"
    journal = rng.choices(*_pairs(JOURNALS))[0]
    year = min(2025, max(1995, int(2025 - rng.expovariate(1 / 4.5))))
    volume = str(rng.randint(1, 60)) if rng.random() < 0.85 else str(year)
    text = f"{author_text}. {title}. {journal}. {year}"
    layout = rng.random()
    if layout < 0.45:
        first = rng.randint(1, 900)
        text += f";{volume}:{first}–{_short_last_page(first, first + rng.randint(2, 30))}"
    elif layout < 0.7:
        text += f";{volume}:{rng.randint(100, 999999)}"
    elif layout < 0.85:
        text += f";{volume}({rng.randint(1, 24)}):{rng.randint(1, 400)}–{rng.randint(401, 499)}"
    text += "."
    if with_doi:
        doi = f"10.5555/bench.{number}"
        text += f" https://doi.org/{doi}." if rng.random() < 0.8 else f" doi:{doi}."
    elif rng.random() < 0.3:
        text += f" https://www.example.org/article/{number}."
    return text, families[0], year


def _short_last_page(first: int, last: int) -> str:
    """Vancouver page ranges drop the leading digits the last page shares: 425–41."""
    a, b = str(first), str(last)
    if len(a) != len(b):
        return b
    i = 0
    while i < len(a) - 1 and a[i] == b[i]:
        i += 1
    return b[i:]


@dataclass
class GeneratedRef:
    number: int
    text: str
    first_author: str
    year: int
    doi: str | None


def generate_references(n_refs: int, seed: int, doi_share: float = 0.9) -> list[GeneratedRef]:
    rng = Random(f"refs-{seed}")
    refs = []
    for number in range(1, n_refs + 1):
        with_doi = rng.random() < doi_share
        text, first, year = reference_text(rng, number, with_doi)
        refs.append(GeneratedRef(number, text, first, year, f"10.5555/bench.{number}" if with_doi else None))
    return refs


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"


def iter_claims(
    n_claims: int, n_refs: int, seed: int, vocab_dir: Path = VOCAB_DIR
) -> Iterator[dict[str, Any]]:
    """Claim records (dicts with the claim keys and `ref`, cargo as worded), deterministic per seed."""
    rng = Random(f"claims-{seed}")
    sources = load_vocab("sources", vocab_dir)
    effects = load_vocab("effects", vocab_dir)
    cargo_types = load_vocab("cargo-types", vocab_dir)
    pathways = load_vocab("pathways", vocab_dir)
    source_codes = {t.code: t for t in sources}

    source_pop, source_cum = _weighted([t.code for t in sources], SOURCE_WEIGHTS)
    effect_pop, effect_cum = _weighted([t.code for t in effects], EFFECT_WEIGHTS)
    type_pop, type_cum = _weighted([t.code for t in cargo_types], CARGO_TYPE_WEIGHTS)
    count_pop, count_cum = _pairs(list(EFFECT_COUNT_WEIGHTS.items()))  # type: ignore[arg-type]
    families = mirna_families(rng)
    family_cum = list(itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(families))))
    pathway_parts = [t.code for t in pathways]
    pathway_spellings = {t.code: [t.code, t.code, *t.synonyms[:2]] for t in pathways}
    engineering_pop, engineering_cum = _pairs(ENGINEERING)
    section_pop, section_cum = _pairs(SECTIONS)
    species_pop, species_cum = _pairs(SPECIES)
    model_pop, model_cum = _pairs(MODELS)
    injury_pop, injury_cum = _pairs(INJURIES)
    route_pop, route_cum = _pairs(ROUTES)
    curator_pop, curator_cum = _pairs(CURATORS)
    # Studies: some are cited by many claims (Zipf over reference numbers, shuffled).
    ref_order = list(range(1, n_refs + 1))
    rng.shuffle(ref_order)
    ref_cum = list(itertools.accumulate(1 / (rank + 1) ** 0.6 for rank in range(n_refs)))
    word_cum = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(NOTE_WORDS))))
    words = list(NOTE_WORDS)
    rng.shuffle(words)

    seen_keys: set[tuple[Any, ...]] = set()
    used_outcomes: set[str] = set()
    choices = rng.choices
    for claim_id in range(1, n_claims + 1):
        source = choices(source_pop, cum_weights=source_cum)[0]
        cargo_type = choices(type_pop, cum_weights=type_cum)[0]
        n_effects = choices(count_pop, cum_weights=count_cum)[0]
        claim_effects: list[str] = []
        while len(claim_effects) < n_effects:
            effect = choices(effect_pop, cum_weights=effect_cum)[0]
            if effect not in claim_effects:
                claim_effects.append(effect)
        cargo: list[str] = []
        if cargo_type == "miRNA":
            n_cargo = choices([1, 2, 0], weights=[80, 15, 5])[0]
            for _ in range(n_cargo):
                family = choices(families, cum_weights=family_cum)[0]
                wording = mirna_wording(rng, family)
                if wording not in cargo:
                    cargo.append(wording)
            if not cargo:  # "miR-199a-3p/145-5p": one written cargo naming two miRNAs
                cargo.append(f"miR-{rng.choice(['199a', '21', '125b', '30c'])}-3p/{rng.randint(100, 500)}-5p")
        elif cargo_type in OTHER_CARGO:
            cargo.append(rng.choice(OTHER_CARGO[cargo_type]))
        claim_pathways: list[str] = []
        for _ in range(choices([0, 1, 2], weights=[55, 35, 10])[0]):
            parts = []
            for _ in range(choices([1, 2, 3, 4], weights=[20, 50, 20, 10])[0]):
                if rng.random() < 0.75:
                    code = rng.choice(pathway_parts)
                    parts.append(rng.choice(pathway_spellings[code]))
                else:
                    parts.append(rng.choice(PATHWAY_EXTRA))
            if cargo and cargo_type == "miRNA" and rng.random() < 0.2:
                parts.insert(0, cargo[0])
            axis = "/".join(dict.fromkeys(parts))
            if axis not in claim_pathways:
                claim_pathways.append(axis)
        engineering: list[str] = []
        if rng.random() < 0.3:
            engineering.append(choices(engineering_pop, cum_weights=engineering_cum)[0])
            if rng.random() < 0.15:
                extra = choices(engineering_pop, cum_weights=engineering_cum)[0]
                if extra not in engineering:
                    engineering.append(extra)
        ref = ref_order[bisect_index(ref_cum, rng.random() * ref_cum[-1])] if n_refs else None
        term = source_codes[source]
        wording_base = rng.choice([source, source, *(term.synonyms[:3] or [source])])
        source_wording = rng.choice(
            [
                f"{wording_base}-derived exosomes",
                f"{wording_base}-derived exosomes",
                f"{wording_base} exosomes",
                f"{wording_base}-EVs",
                f"hypoxia-preconditioned {wording_base}",
                f"{wording_base}-derived small extracellular vesicles (sEV)",
            ]
        )
        species = choices(species_pop, cum_weights=species_cum)[0]
        model = choices(model_pop, cum_weights=model_cum)[0]
        injury = choices(injury_pop, cum_weights=injury_cum)[0]
        route = choices(route_pop, cum_weights=route_cum)[0]
        dose = "not stated" if rng.random() < 0.7 else f"{rng.choice([10, 20, 50, 100, 200, 400])} µg"
        outcome = "not stated"
        if rng.random() < 0.35:
            outcome = _outcome(rng)
        key = (ref, source, cargo_type, tuple(sorted(claim_effects)))
        if key in seen_keys or outcome in used_outcomes:
            # `exocli import` refuses two claims that say the same thing: make this one differ.
            outcome = _outcome(rng)
            while outcome in used_outcomes:
                outcome = _outcome(rng)
        seen_keys.add(key)
        if outcome != "not stated":
            used_outcomes.add(outcome)
        n_words = rng.randint(3, 10)
        note_words: list[str] = []
        while len(note_words) < n_words:
            word = words[bisect_index(word_cum, rng.random() * word_cum[-1])]
            if word not in note_words:
                note_words.append(word)
        note = "Curator note: " + " ".join(note_words) + "."
        curator = choices(curator_pop, cum_weights=curator_cum)[0]
        added_at = f"20{rng.choice(['24', '25', '26'])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        yield {
            "id": claim_id,
            "ref": ref,
            "section": choices(section_pop, cum_weights=section_cum)[0],
            "source": source,
            "source_wording": source_wording,
            "cargo_type": cargo_type,
            "cargo": cargo,
            "engineering": engineering,
            "pathways": claim_pathways,
            "effects": claim_effects,
            "species": CONTEXT_TERMS[species],
            "model": CONTEXT_TERMS[model]
            + [m for m in INJURY_MODELS.get(injury, []) if m not in CONTEXT_TERMS[model]],
            "injury": CONTEXT_TERMS[injury],
            "route": route,
            "dose": dose,
            "outcome": outcome,
            "note": note,
            "added_by": curator,
            "added_at": added_at,
        }


def bisect_index(cumulative: list[float], value: float) -> int:
    from bisect import bisect_right

    return min(bisect_right(cumulative, value), len(cumulative) - 1)


def _outcome(rng: Random) -> str:
    measure = rng.choice(OUTCOME_MEASURES)
    day = rng.choice([7, 14, 21, 28, 42, 56])
    a, b = rng.uniform(1, 20), rng.uniform(1, 20)
    sa, sb = rng.uniform(0.2, 3), rng.uniform(0.2, 3)
    p = rng.choice(["p < 0.05", "p < 0.01", "P < 0.001", f"p = {rng.uniform(0.001, 0.05):.4f}"])
    return f"{measure} day {day}: {a:.2f} ± {sa:.2f} vs {b:.2f} ± {sb:.2f} (treatment vs control), {p}"


def claim_block(claim: dict[str, Any]) -> str:
    """One [[claim]] block as a study file holds it (no `ref`: the file is the citation)."""
    lines = ["[[claim]]"]
    for key in CLAIM_KEYS:
        value = claim[key]
        if value is None or key == "ref":
            continue
        if key in LIST_KEYS:
            lines.append(f"{key} = {_toml_list(value)}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} = {_toml_string(value)}")
    return "\n".join(lines) + "\n"


def write_config(root: Path, name: str) -> None:
    (root / "exocli.toml").write_text(
        "# exocli workspace (generated by bench/generate.py)\n[workspace]\n"
        f'name = "{name}"\nformat = 2\nreferences = "refs/order.txt"\n\n[crossref]\nmailto = ""\n',
        encoding="utf-8",
    )


def write_studies(root: Path, refs: Sequence[GeneratedRef]) -> dict[int, Path]:
    """refs/order.txt and one refs/studies/KEY.toml per reference (its fields, no claims yet).

    The fields are what exocli's parser reads from the generated text, written the way
    `exocli refs import` would write them; {number: study file}.
    """
    from exocli.records import toml_value
    from exocli.refparse import parse_reference
    from exocli.studies import ORDER_HEADER, STUDY_HEADER, new_key, reference_entry

    studies = root / "refs" / "studies"
    studies.mkdir(parents=True, exist_ok=True)
    taken: list[str] = []
    paths: dict[int, Path] = {}
    for ref in refs:
        parsed = parse_reference(ref.text, ref.number)
        key = new_key(parsed, taken)
        taken.append(key)
        lines = [f"{k} = {toml_value(v)}" for k, v in reference_entry(parsed).items()]
        paths[ref.number] = studies / f"{key}.toml"
        paths[ref.number].write_text(STUDY_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    (root / "refs" / "order.txt").write_text(
        ORDER_HEADER + "".join(f"{k}\n" for k in taken), encoding="utf-8"
    )
    return paths


def write_claims(paths: dict[int, Path], claims: Iterator[dict[str, Any]]) -> int:
    """Append each claim to its study's file, in id order (as `exocli import` would add them)."""
    pending: dict[int, list[str]] = {}
    count = 0
    for claim in claims:
        pending.setdefault(claim["ref"], []).append("\n" + claim_block(claim))
        count += 1
        if count % 200_000 == 0:
            _flush(paths, pending)
    _flush(paths, pending)
    return count


def _flush(paths: dict[int, Path], pending: dict[int, list[str]]) -> None:
    for number, blocks in pending.items():
        with paths[number].open("a", encoding="utf-8") as handle:
            handle.write("".join(blocks))
    pending.clear()


def generate(root: Path, n_claims: int, n_refs: int, seed: int, *, with_claims: bool = True) -> Path:
    """Write a complete workspace: exocli.toml, refs/order.txt, refs/studies/, db/vocab/ (the repo's)."""
    root = Path(root)
    (root / "db").mkdir(parents=True, exist_ok=True)
    write_config(root, f"Benchmark workspace ({n_claims} claims, {n_refs} references, seed {seed})")
    paths = write_studies(root, generate_references(n_refs, seed))
    vocab = root / "db" / "vocab"
    if vocab.exists():
        shutil.rmtree(vocab)
    shutil.copytree(VOCAB_DIR, vocab)
    if with_claims and n_refs:
        write_claims(paths, iter_claims(n_claims, n_refs, seed))
    return root


def _cargo_names(wordings: Sequence[str]) -> list[str]:
    """The normalised names `query` shows in its cargo column (a derived column: import ignores it)."""
    try:
        from exocli.evidence import make_cargo
    except ImportError:  # pragma: no cover - exocli not installed
        return list(wordings)
    return [c.name for w in wordings for c in make_cargo(w)]


def csv_rows(n_claims: int, n_refs: int, seed: int) -> Iterator[dict[str, str]]:
    """The claims as `exocli query --format csv` rows, keyed by exocli.query.CLAIM_COLUMNS."""
    refs = {r.number: r for r in generate_references(n_refs, seed)}
    for claim in iter_claims(n_claims, n_refs, seed):
        ref = refs.get(claim["ref"]) if claim["ref"] is not None else None
        row = {key: "; ".join(value) if key in LIST_KEYS else str(value) for key, value in claim.items()}
        row["ref"] = "" if ref is None else str(ref.number)
        row["study"] = "" if ref is None else f"{ref.first_author} {ref.year}"
        row["year"] = "" if ref is None else str(ref.year)
        row["doi"] = (ref.doi or "") if ref is not None else ""
        row["cargo"] = "; ".join(_cargo_names(claim["cargo"]))
        row["cargo_wording"] = "; ".join(claim["cargo"])
        row["flags"] = ""
        yield row


def write_claims_csv(path: Path, n_claims: int, n_refs: int, seed: int) -> int:
    """The same claims as generate() writes, as a CSV in the `exocli query --format csv` layout."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CLAIM_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in csv_rows(n_claims, n_refs, seed):
            writer.writerow(row)
            count += 1
    return count


# --- reference files: BibTeX and the same references as a printed list ------------------------

# Given names as bibliography files hold them (full names; hyphenated, double, non-ASCII).
GIVEN_NAMES = """
Wei Xiaoming Jing Hui Yan Lei Jun Ming Hao Yu-Ting Zhi-Qiang Xiao-Li Min-Jung Ji-Hoon Seung-Woo
Hye-Jin Hiroshi Yuki Takeshi Akiko Kenji John Mary Michael Sarah David Emily James Robert Laura
Anna Maria José María Jesús Ángel Álvaro Lucía Inês João Conceição Sebastián François Hélène
Jérôme Zoë Chloé Anaïs Jürgen Björn Jörg Günter Søren Åsa Øystein Łukasz Małgorzata Wojciech
Jiří Tomáš Dušan Miloš İbrahim Ahmet Şükrü Özlem Gülşen Thành Minh Ana-Sofía Jean-Pierre
Marie-Claire Hans-Peter Anne-Marie Mary-Ann Giovanni Francesca Chiara Matteo Rafael Pedro Aleksandr
Olga Yevgeny Natalia Priya Rahul Aditya Fatima Mohammed Omar Leila Reza Nasrin Kwame Amara Chidi
""".split()
EXTRA_FAMILY_NAMES = """
García Pérez Núñez Gonçalves Sánchez Jiménez Çelik Yılmaz Öztürk Şahin Kovačević Wójcik Nguyễn
Bergström Lindqvist Ødegård Bräuer Schäfer Köhler Lefèvre Bélanger D’Amico Ångström Søndergaard
""".split()
# Family names with particles, as (particle, family): "van der Berg, Anna".
PARTICLE_NAMES = [
    ("van der", "Berg"),
    ("de la", "Fuente"),
    ("von", "Stein"),
    ("dos", "Santos"),
    ("van", "Dijk"),
    ("de", "Vries"),
    ("di", "Stefano"),
    ("Le", "Roux"),
]
# Journal abbreviation (as printed lists and some exports give it) -> full name (Zotero and
# most exports), and the DOI prefix its publisher uses.
JOURNAL_DETAILS = {
    "Stem Cell Res Ther": ("Stem Cell Research \\& Therapy", "10.1186/s13287"),
    "J Nanobiotechnology": ("Journal of Nanobiotechnology", "10.1186/s12951"),
    "J Neuroinflammation": ("Journal of Neuroinflammation", "10.1186/s12974"),
    "Neural Regen Res": ("Neural Regeneration Research", "10.4103/1673-5374"),
    "Int J Mol Sci": ("International Journal of Molecular Sciences", "10.3390/ijms"),
    "Mol Neurobiol": ("Molecular Neurobiology", "10.1007/s12035"),
    "Cell Death Dis": ("Cell Death \\& Disease", "10.1038/s41419"),
    "Front Cell Dev Biol": ("Frontiers in Cell and Developmental Biology", "10.3389/fcell"),
    "Exp Neurol": ("Experimental Neurology", "10.1016/j.expneurol"),
    "ACS Nano": ("ACS Nano", "10.1021/acsnano"),
    "Bioact Mater": ("Bioactive Materials", "10.1016/j.bioactmat"),
    "Theranostics": ("Theranostics", "10.7150/thno"),
    "Oxid Med Cell Longev": ("Oxidative Medicine and Cellular Longevity", "10.1155"),
    "J Extracell Vesicles": ("Journal of Extracellular Vesicles", "10.1002/jev2"),
    "Cytotherapy": ("Cytotherapy", "10.1016/j.jcyt"),
    "Neurosurg Rev": ("Neurosurgical Review", "10.1007/s10143"),
    "Cells": ("Cells", "10.3390/cells"),
    "Biomolecules": ("Biomolecules", "10.3390/biom"),
    "Front Bioeng Biotechnol": ("Frontiers in Bioengineering and Biotechnology", "10.3389/fbioe"),
    "Mol Ther Nucleic Acids": ("Molecular Therapy -- Nucleic Acids", "10.1016/j.omtn"),
    "Neurochem Res": ("Neurochemical Research", "10.1007/s11064"),
    "Brain Res Bull": ("Brain Research Bulletin", "10.1016/j.brainresbull"),
    "Stem Cells Transl Med": ("Stem Cells Translational Medicine", "10.1002/sctm"),
    "Spinal Cord": ("Spinal Cord", "10.1038/s41393"),
    "Global Spine J": ("Global Spine Journal", "10.1177/2192568"),
    "Lancet Neurol": ("The Lancet Neurology", "10.1016/S1474-4422"),
    "Nat Neurosci": ("Nature Neuroscience", "10.1038/s41593"),
    "Adv Drug Deliv Rev": ("Advanced Drug Delivery Reviews", "10.1016/j.addr"),
    "Biomaterials": ("Biomaterials", "10.1016/j.biomaterials"),
    "Tissue Cell": ("Tissue \\& Cell", "10.1016/j.tice"),
}
# Title pieces with what BibTeX files do to them: braces that protect case, LaTeX accents,
# math Greek, \textit.  Each is (as printed, as a .bib holds it).
TITLE_PATHWAYS = [
    ("TLR4/NF-κB", "{TLR4/NF-$\\kappa$B}"),
    ("PI3K/AKT", "{PI3K/AKT}"),
    ("NLRP3", "{NLRP3}"),
    ("Wnt/β-catenin", "{Wnt}/$\\beta$-catenin"),
    ("MAPK", "{MAPK}"),
    ("NRF2/GPX4", "{NRF2/GPX4}"),
    ("TGF-β1/Smad", "{TGF}-$\\beta$1/{Smad}"),
    ("Krüppel-like factor 4", 'Kr{\\"u}ppel-like factor 4'),
]
TITLE_EXTRAS = [
    ("in naïve and injured rats", 'in na{\\"\\i}ve and injured rats'),
    ("in Müller glia", 'in M{\\"u}ller glia'),
    ("with Förster resonance energy transfer imaging", 'with F{\\"o}rster resonance energy transfer imaging'),
    ("in a Guillain–Barré-like model", "in a Guillain--Barr{\\'e}-like model"),
    ("in vitro and in vivo", "\\textit{in vitro} and \\textit{in vivo}"),
    ("after 20% compression", "after 20\\% compression"),
    ("in Schwann cells", "in {Schwann} cells"),
]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# Letters written as LaTeX accents in the .bib files that do not use UTF-8.
LATEX_LETTERS = {
    "á": "{\\'a}", "é": "{\\'e}", "í": "{\\'i}", "ó": "{\\'o}", "ú": "{\\'u}", "ć": "{\\'c}",
    "Á": "{\\'A}", "É": "{\\'E}", "à": "{\\`a}", "è": "{\\`e}", "â": "{\\^a}", "ê": "{\\^e}",
    "ä": "{\\\"a}", "ë": "{\\\"e}", "ï": "{\\\"\\i}", "ö": "{\\\"o}", "ü": "{\\\"u}", "Ö": "{\\\"O}",
    "Ü": "{\\\"U}", "ñ": "{\\~n}", "ã": "{\\~a}", "õ": "{\\~o}", "ç": "{\\c{c}}", "ş": "{\\c{s}}",
    "Ş": "{\\c{S}}", "ø": "{\\o}", "Ø": "{\\O}", "å": "{\\aa}", "Å": "{\\AA}", "ł": "{\\l}",
    "Ł": "{\\L}", "ř": "{\\v{r}}", "š": "{\\v{s}}", "č": "{\\v{c}}", "ž": "{\\v{z}}", "ğ": "{\\u{g}}",
    "ı": "{\\i}", "İ": "{\\.I}", "ß": "{\\ss}",
}  # fmt: skip
_LATEX_TABLE = str.maketrans(LATEX_LETTERS)


@dataclass
class FileReference:
    """One reference of the benchmark's bibliography files, printed and as BibTeX."""

    number: int
    key: str
    authors: list[tuple[str, str]]  # (family with particle, full given name)
    title: str  # as printed (Unicode)
    title_tex: str  # as the .bib holds it (braces, LaTeX accents, math)
    journal: str  # abbreviation
    year: int
    month: int | None
    volume: str | None
    issue: str | None
    pages: tuple[str, str | None] | None  # (first, last) or (article number, None)
    doi: str | None
    abstract: str | None
    keywords: list[str]


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text.translate(str.maketrans("øØłŁıß", "oOlLis")))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _fold(text: str) -> str:
    """Lowercase ASCII words (as exocli compares titles and names)."""
    return " ".join(re.findall(r"[a-z0-9]+", _ascii(text).lower()))


def _file_author(rng: Random) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.04:
        particle, family = rng.choice(PARTICLE_NAMES)
        family = f"{particle} {family}"
    elif roll < 0.2:
        family = rng.choice(EXTRA_FAMILY_NAMES)
    else:
        family = _family(rng)
        if family == "Łukasz":  # a given name in FAMILY_NAMES
            family = "Łukaszewicz"
    given = rng.choice(GIVEN_NAMES)
    if rng.random() < 0.25:
        given += f" {rng.choice('ABCDEFGHJKLMNPRSTW')}."
    return family, given


def generate_file_references(
    n_refs: int, seed: int, doi_share: float = 0.92, abstract_share: float = 0.0
) -> list[FileReference]:
    """n_refs references for the bibliography files, deterministic per seed.

    No abstracts by default: bibtexparser's LaTeX decoding (pylatexenc, per character) of
    long abstracts adds to both sides of the comparison and hides what exocli adds (an
    abstract on 30 % of 10k entries made the file 9.2 MB instead of 5.2 MB and bibtexparser's
    parse 78 s instead of 51 s here). Titles are unique per first author and year where there
    is no DOI: otherwise exocli rightly takes two entries for one paper.
    """
    rng = Random(f"bibfile-{seed}")
    journals, journal_cum = _pairs(JOURNALS)
    refs: list[FileReference] = []
    keys: set[str] = set()
    identities: set[tuple[str, str, int]] = set()
    for number in range(1, n_refs + 1):
        count = rng.choices(range(1, 16), weights=[5, 7, 8, 9, 10, 12, 11, 9, 7, 6, 5, 4, 3, 2, 2])[0]
        authors = [_file_author(rng) for _ in range(count)]
        if rng.random() < 0.15:
            title = tex = rng.choice(TITLE_REVIEWS)
            if rng.random() < 0.5:
                tex = tex.replace("MicroRNAs", "{MicroRNAs}")
        else:
            source = rng.choice(TITLE_SOURCES)
            words = f" {rng.choice(TITLE_VERBS)} {rng.choice(TITLE_OBJECTS)}"
            title, tex = source + words, source.replace("M2", "{M2}") + words
            if rng.random() < 0.45:
                printed, bib = rng.choice(TITLE_PATHWAYS)
                title, tex = title + f" via the {printed} pathway", tex + f" via the {bib} pathway"
            if rng.random() < 0.3:
                family = rng.choice(HEAD_FAMILIES)
                title, tex = title + f" by delivering {family}", tex + f" by delivering {{{family}}}"
            if rng.random() < 0.25:
                printed, bib = rng.choice(TITLE_EXTRAS)
                title, tex = f"{title} {printed}", f"{tex} {bib}"
            else:
                tail = rng.choice(TITLE_TAILS)
                title, tex = f"{title} {tail}", f"{tex} {tail}"
        if rng.random() < 0.03:
            title, tex = title + "?", tex + "?"
        journal = rng.choices(journals, cum_weights=journal_cum)[0]
        year = min(2025, max(1995, int(2025 - rng.expovariate(1 / 4.5))))
        month = rng.randint(1, 12) if rng.random() < 0.4 else None
        volume = str(rng.randint(1, 60)) if rng.random() < 0.95 else None
        issue = str(rng.randint(1, 24)) if rng.random() < 0.6 else None
        issue = issue if volume else None  # no issue without a volume (as printed lists have it)
        pages: tuple[str, str | None] | None
        layout = rng.random()
        if layout < 0.6:
            first = rng.randint(1, 9000)
            pages = (str(first), str(first + rng.randint(2, 30)))
        elif layout < 0.92:
            pages = (rng.choice(["", "e", ""]) + str(rng.randint(100, 999999)), None)
        else:
            pages = None
        doi = None
        if rng.random() < doi_share:
            prefix = JOURNAL_DETAILS[journal][1]
            if rng.random() < 0.005:  # the SICI DOIs of older Wiley papers
                doi = f"10.1002/(SICI)1097-4547({year}0101)55:1<{number}::AID-JNR1>3.0.CO;2-#"
            elif re.search(r"/s\d+$", prefix):  # Springer Nature, BMC
                doi = f"{prefix}-0{year % 100:02d}-{number:05d}-{rng.randint(0, 9)}"
            elif "/j." in prefix:  # Elsevier
                doi = f"{prefix}.{year}.{number:06d}"
            elif "/" in prefix:
                doi = f"{prefix}.{year}.{number}"
            else:
                doi = f"{prefix}/{year}/{number:06d}"
        if doi is None:  # title + first author + year is then the paper's identity (exocli's too)
            identity = (_fold(title), _fold(authors[0][0]), year)
            while identity in identities:  # another paper: another first author
                authors[0] = _file_author(rng)
                identity = (_fold(title), _fold(authors[0][0]), year)
            identities.add(identity)
        abstract = None
        if rng.random() < abstract_share:
            abstract = (
                " ".join(rng.choice(NOTE_WORDS) for _ in range(rng.randint(60, 220))).capitalize() + "."
            )
        keywords = rng.sample(NOTE_WORDS, rng.randint(3, 7)) if rng.random() < 0.4 else []
        base = re.sub(r"[^a-z0-9]", "", _ascii(authors[0][0]).lower()) or "anon"
        first_word = next((w for w in _ascii(title).lower().split() if len(w) > 3 and w.isalpha()), "x")
        key = f"{base}{year}{first_word}"
        suffix = 0
        while key in keys:
            suffix += 1
            key = f"{base}{year}{first_word}{chr(ord('a') + (suffix - 1) % 26)}{(suffix - 1) // 26 or ''}"
        keys.add(key)
        refs.append(
            FileReference(
                number, key, authors, title, tex, journal, year, month, volume, issue, pages, doi,
                abstract, keywords,
            )
        )  # fmt: skip
    return refs


def _bib_name(rng: Random, family: str, given: str, latex: bool) -> str:
    if latex:
        family, given = family.translate(_LATEX_TABLE), given.translate(_LATEX_TABLE)
    if " " not in family and rng.random() < 0.12:
        return f"{given} {family}"  # "Given Family", as some exports write it
    return f"{family}, {given}"


def bibtex_entry(ref: FileReference, rng: Random) -> str:
    """One entry as exports and hand-kept files write it; layout varies per entry."""
    latex = rng.random() < 0.4  # else UTF-8 letters as they are
    names = [_bib_name(rng, f, g, latex) for f, g in ref.authors]
    if len(names) > 10 and rng.random() < 0.3:
        names = [*names[:10], "others"]
    journal = JOURNAL_DETAILS[ref.journal][0] if rng.random() < 0.75 else ref.journal
    title = ref.title_tex if latex else _utf8_title(ref)
    title = "{" + title + "}" if rng.random() < 0.4 else title  # Zotero's double braces
    fields: list[tuple[str, str]] = [
        ("author", " and ".join(names)),
        ("title", title),
        ("journal", journal),
        ("year", str(ref.year)),
    ]
    if ref.month is not None:
        fields.append(("month", MONTHS[ref.month - 1] if rng.random() < 0.5 else str(ref.month)))
    if ref.volume:
        fields.append(("volume", ref.volume))
    if ref.issue:
        fields.append(("number", ref.issue))
    if ref.pages:
        first, last = ref.pages
        fields.append(("pages", f"{first}--{last}" if last else first))
    if ref.doi:
        fields.append(("doi", ref.doi))
        if rng.random() < 0.4:
            fields.append(("url", f"https://doi.org/{ref.doi}"))
    if rng.random() < 0.6:
        fields.append(
            ("issn", f"{rng.randint(1000, 9999)}-{rng.randint(100, 999)}{rng.choice('0123456789X')}")
        )
    if rng.random() < 0.5:
        fields.append(("pmid", str(30_000_000 + ref.number * 7)))
    if ref.keywords:
        fields.append(("keywords", ", ".join(ref.keywords)))
    if ref.abstract:
        fields.append(("abstract", ref.abstract))
    if rng.random() < 0.2:
        fields.append(("language", "eng"))
    upper = rng.random() < 0.1
    indent = "\t" if rng.random() < 0.3 else "  "
    lines = []
    for name, value in fields:
        name = name.upper() if upper else name
        if name.lower() == "month" and value in MONTHS:
            lines.append(f"{indent}{name} = {value}")  # the month macros
        elif name.lower() == "year" and rng.random() < 0.3:
            lines.append(f"{indent}{name} = {value}")
        else:
            lines.append(f"{indent}{name} = {{{value}}}")
    kind = "Article" if upper or rng.random() < 0.2 else "article"
    return f"@{kind}{{{ref.key},\n" + ",\n".join(lines) + "\n}\n"


_TEX_TO_UTF8 = {
    "$\\kappa$": "κ",
    "$\\beta$": "β",
    '{\\"u}': "ü",
    '{\\"o}': "ö",
    "{\\'e}": "é",
    '{\\"\\i}': "ï",
}


def _utf8_title(ref: FileReference) -> str:
    """The title as a UTF-8 .bib holds it: Unicode letters and Greek; braces, \\textit, \\% kept."""
    title = ref.title_tex
    for tex, letter in _TEX_TO_UTF8.items():
        title = title.replace(tex, letter)
    return title


def vancouver_entry(ref: FileReference, rng: Random) -> str:
    """The reference as a numbered Vancouver / NLM list prints it (initials, at most 6 authors)."""
    names = []
    for family, given in ref.authors[:6] if len(ref.authors) > 6 else ref.authors:
        initials = "".join(part[0] for part in re.split(r"[\s-]+", _ascii(given)) if part)
        names.append(f"{family} {initials}")
    text = ", ".join(names) + (", et al" if len(ref.authors) > 6 else "")
    title = ref.title if ref.title.endswith("?") else ref.title + "."
    text += f". {title} {ref.journal}. {ref.year}"
    if ref.month is not None and rng.random() < 0.5:
        text += " " + MONTHS[ref.month - 1].capitalize()
    if ref.volume:
        text += f";{ref.volume}" + (f"({ref.issue})" if ref.issue else "")
    if ref.pages:
        first, last = ref.pages
        dash = "–" if rng.random() < 0.3 else "-"
        if last is None:
            text += f":{first}"
        else:
            text += f":{first}{dash}{_short_last_page(int(first), int(last)) if rng.random() < 0.5 else last}"
    text += "."
    if ref.doi:
        text += f" doi:{ref.doi}" if rng.random() < 0.7 else f" https://doi.org/{ref.doi}"
    return f"{ref.number}. {text}"


def write_reference_files(
    bib_path: Path | None, printed_path: Path | None, n_refs: int, seed: int
) -> list[FileReference]:
    """The same n_refs references as a .bib file and as a printed numbered list (either optional)."""
    refs = generate_file_references(n_refs, seed)
    if bib_path is not None:
        rng = Random(f"bibtex-{seed}")
        parts = [
            "% Encoding: UTF-8\n% Generated by exocli's bench/generate.py\n\n",
            "@comment{jabref-meta: databaseType:bibtex;}\n\n",
        ]
        parts.extend(bibtex_entry(ref, rng) + "\n" for ref in refs)
        Path(bib_path).write_text("".join(parts), encoding="utf-8")
    if printed_path is not None:
        rng = Random(f"printed-{seed}")
        lines = ["References\n\n", *(vancouver_entry(ref, rng) + "\n" for ref in refs)]
        Path(printed_path).write_text("".join(lines), encoding="utf-8")
    return refs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "root", type=Path, nargs="?", help="the workspace to write (optional with --bib/--printed)"
    )
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--refs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--csv", type=Path, help="also write the claims as a CSV here")
    parser.add_argument("--bib", type=Path, help="write --refs references as a BibTeX file here")
    parser.add_argument("--printed", type=Path, help="... and the same references as a printed numbered list")
    args = parser.parse_args(argv)
    if args.bib or args.printed:
        write_reference_files(args.bib, args.printed, args.refs, args.seed)
        print(f"Wrote {args.bib or ''} {args.printed or ''} ({args.refs} references)", file=sys.stderr)
    if args.root is None:
        if not (args.bib or args.printed):
            parser.error("give a workspace folder, --bib or --printed")
        return 0
    generate(args.root, args.claims, args.refs, args.seed)
    if args.csv:
        write_claims_csv(args.csv, args.claims, args.refs, args.seed)
    print(f"Wrote {args.root} ({args.claims} claims, {args.refs} references)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# --- works an update search finds (Crossref list items) -------------------------------------------

WORK_SOURCES = [
    "Umbilical cord mesenchymal stem cell", "Adipose-derived stem cell", "Bone marrow MSC",
    "Neural stem cell", "Induced pluripotent stem cell", "Dental pulp stem cell", "Macrophage",
]  # fmt: skip
WORK_CARGO = ["miR-21", "miR-124-3p", "miR-146a-5p", "lncRNA MALAT1", "circRNA_0000627", "TSG-6", ""]
WORK_EFFECTS = [
    "reduce neuroinflammation", "promote angiogenesis", "inhibit neuronal apoptosis",
    "enhance axon regeneration", "suppress pyroptosis", "improve locomotor recovery",
]  # fmt: skip
WORK_INJURIES = [
    "after spinal cord injury", "in ischemic stroke", "after traumatic brain injury", "in Parkinson's disease",
    "in diabetic wound healing", "in osteoarthritis",
]  # fmt: skip
OFF_TOPIC = [
    "Soil microbial communities along an alpine gradient", "A survey of urban heat islands",
    "Deep learning for galaxy morphology", "Nitrogen cycling in rice paddies",
]  # fmt: skip


def candidate_works(
    n: int, seed: int, cited: Sequence[tuple[str, str, int, str]] = ()
) -> list[dict[str, Any]]:
    """n Crossref-shaped works (the fields `search run` selects), with ~170-word abstracts.

    With `cited` ((doi, title, year, first author) of the workspace's references), 30% of the
    works carry a cited DOI and 20% a cited title, first author and year under another DOI
    (title upper-cased, a full stop added): what deduplication must catch."""
    rng = Random(f"works-{seed}")
    works = []
    for i in range(n):
        roll = rng.random()
        source, cargo = rng.choice(WORK_SOURCES), rng.choice(WORK_CARGO)
        effect, injury = rng.choice(WORK_EFFECTS), rng.choice(WORK_INJURIES)
        title = (
            f"{source}-derived exosomes{' carrying ' + cargo if cargo else ''} {effect} {injury}"
            if rng.random() > 0.1
            else rng.choice(OFF_TOPIC)
        ) + f" (cohort {i + 1})"  # each paper its own title
        doi, family, year = f"10.5555/cand.{seed}.{i}", _family(rng), rng.randint(2024, 2026)
        if cited and roll < 0.3:
            doi, title, year, family = cited[rng.randrange(len(cited))]
        elif cited and roll < 0.5:
            _, cited_title, year, family = cited[rng.randrange(len(cited))]
            title = cited_title.upper() + "."
        sentences = [
            f"Exosomes from {source.lower()} cells were isolated by ultracentrifugation and characterised.",
            f"In a rat model {injury}, intravenous injection {effect}.",
            f"Sequencing identified {cargo or 'several miRNAs'} as the main cargo, acting through PI3K/AKT.",
            "Behavioural scores, histology and western blots were compared with PBS-treated controls.",
            "These findings suggest a cell-free therapy worth testing in larger animals.",
        ]
        abstract = " ".join(rng.sample(sentences, k=len(sentences)) * 2)
        works.append(
            {
                "DOI": doi,
                "type": "journal-article" if rng.random() > 0.08 else "posted-content",
                "title": [title],
                "author": [
                    {"given": "A. B.", "family": family, "sequence": "first"},
                    {"given": "C.", "family": _family(rng), "sequence": "additional"},
                ],
                "container-title": [
                    rng.choice(["Stem Cell Research & Therapy", "Journal of Neuroinflammation"])
                ],
                "issued": {"date-parts": [[year, rng.randint(1, 12)]]},
                "indexed": {"date-parts": [[2026, 11, rng.randint(1, 28)]]},
                "volume": str(rng.randint(1, 40)),
                "page": str(rng.randint(1, 400)),
                "abstract": f"<jats:title>Abstract</jats:title><jats:p>{abstract}</jats:p>",
                "relation": {},
            }
        )
    return works
