"""One APIRouter per area: health and model info, prediction, streaming, the live page."""
