"""A version's tasks as reinforcement-learning environments: episodes executed by the tasks' own executors,
rewarded from execution (rewards.py), served to OpenEnv clients (openenv_app.py). Nothing is imported here, so
the pipeline spec can read `settings` without the rest."""
