"""Seeded generator of realistic exocli workspaces for the benchmarks.

    generate(root, n_claims, n_refs, seed)   -> a complete workspace (text only, no database)
    write_claims_csv(path, n_claims, n_refs, seed)  -> the same claims as `query --format csv`

Distributions follow the shipped evidence (refs/studies/) over the real vocabularies
(db/vocab/*.toml): sources skewed like the review (BMSC, UCMSC, MSC, NSC, ADSC first),
1-3 effects per claim, cargo mostly miRNA or none, miRNA names from a few hundred
families with Zipf-like popularity, pathway axes from the pathways vocabulary joined
with "/", and curator notes made of random words (something for full-text search).

Run directly for a one-off workspace:  python bench/generate.py DIR --claims 10000 --refs 500
"""

from __future__ import annotations

import argparse
import csv
import itertools
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
            "species": species,
            "model": model,
            "injury": injury,
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--refs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--csv", type=Path, help="also write the claims as a CSV here")
    args = parser.parse_args(argv)
    generate(args.root, args.claims, args.refs, args.seed)
    if args.csv:
        write_claims_csv(args.csv, args.claims, args.refs, args.seed)
    print(f"Wrote {args.root} ({args.claims} claims, {args.refs} references)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
