"""`hri-emo demo`: a generated spoken emotion corpus, trained models, an explanation report.

- `corpus`: the synthetic corpus (eSpeak NG), with the modality that carries each label and
  exact word spans; `sentences`: its wording.
- `pipeline`: corpus -> features -> training -> explanations, each step resumable.
- `explain`: beta and accuracy by carrier, alignment accuracy, the HTML report.
"""
