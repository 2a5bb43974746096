"""The HDF5 feature store: one file of precomputed features per corpus x encoder.

- `feature_store`: `FeatureStore` (open, write, read, resume) and `FeatureMetadata`.
- `layout`: what a store file holds and how it sits in HDF5 (ids, groups, attributes).
- `journal`: the crash-safe write path (immutable journal shards, atomic merges).
- `inspect_store`: a store at a glance (`hri-emo data inspect store.h5`).
- `mixed_source`: a share of the items read from a second (noisy) store.
"""
