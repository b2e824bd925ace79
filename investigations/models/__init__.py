"""Tenant-schema models of the investigations app, one module per concern."""

from investigations.models.chat import ChatAnswerer, ChatMessage, ChatRole, ChatState
from investigations.models.investigation import (
    QUEUES,
    FeedbackRating,
    FeedbackSource,
    Investigation,
    InvestigationFeedback,
    InvestigationStatus,
    InvestigationStep,
    PipelineCheck,
)
from investigations.models.model_settings import ModelConfig, ModelProvider, ModelUsage, validate_endpoint

__all__ = [
    "QUEUES",
    "ChatAnswerer",
    "ChatMessage",
    "ChatRole",
    "ChatState",
    "FeedbackRating",
    "FeedbackSource",
    "Investigation",
    "InvestigationFeedback",
    "InvestigationStatus",
    "InvestigationStep",
    "ModelConfig",
    "ModelProvider",
    "ModelUsage",
    "PipelineCheck",
    "validate_endpoint",
]
