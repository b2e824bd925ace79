"""Follow-up chat on an investigation: questions answered from its evidence, or by a model with tools.

chat_ask(investigation, user, question)   services.py: store the question, enqueue the answer
chat_answer(message_id)                   services.py: the job's body (builtin or model), streamed
builtin.answer(result, question)          intent → an answer quoted from the stored evidence
model.answer_with_model(...)              the bounded tool loop over the llm package
"""
