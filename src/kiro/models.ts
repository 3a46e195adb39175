import type { ModelInfo } from '../chat/types.js';

const day = (iso: string) => Math.floor(Date.parse(`${iso}T00:00:00Z`) / 1000);

// `created` is the date in the id where there is one, else the approximate public release.
// Public ids are Anthropic's; `upstreamId` is the dotted id Kiro's runtime endpoint takes
// (kiro-protocol.md §4). Aliases are the names users already have configured in their tools.
// `thinking`: the 4.x models before 4.6 answer 400 to Kiro's native reasoning fields
// (kiro-protocol.md §9), so they think in prompt tags; the newer ones stream signed thinking.
export const KIRO_MODELS: readonly ModelInfo[] = [
  {
    id: 'claude-sonnet-4-5-20250929',
    displayName: 'Claude Sonnet 4.5',
    thinking: 'tags',
    upstreamId: 'claude-sonnet-4.5',
    created: day('2025-09-29'),
    ownedBy: 'anthropic',
    contextWindow: 200_000,
    aliases: ['claude-sonnet-4-5', 'claude-sonnet-4.5', 'gpt-4', 'gpt-4o'],
  },
  {
    id: 'claude-sonnet-4-20250514',
    displayName: 'Claude Sonnet 4',
    thinking: 'tags',
    upstreamId: 'claude-sonnet-4',
    created: day('2025-05-14'),
    ownedBy: 'anthropic',
    contextWindow: 200_000,
    aliases: ['claude-sonnet-4', 'claude-4-sonnet', 'claude-3-sonnet'],
  },
  {
    id: 'claude-haiku-4-5-20251001',
    displayName: 'Claude Haiku 4.5',
    thinking: 'tags',
    upstreamId: 'claude-haiku-4.5',
    created: day('2025-10-01'),
    ownedBy: 'anthropic',
    contextWindow: 200_000,
    aliases: ['claude-haiku-4-5', 'claude-haiku-4.5'],
  },
  {
    id: 'claude-opus-4-5-20251101',
    displayName: 'Claude Opus 4.5',
    thinking: 'tags',
    upstreamId: 'claude-opus-4.5',
    created: day('2025-11-01'),
    ownedBy: 'anthropic',
    contextWindow: 200_000,
    aliases: ['claude-opus-4-5', 'claude-opus-4.5', 'claude-4-opus'],
  },
  {
    id: 'claude-sonnet-4-6',
    displayName: 'Claude Sonnet 4.6',
    thinking: 'native',
    upstreamId: 'claude-sonnet-4.6',
    created: day('2026-02-17'),
    ownedBy: 'anthropic',
    contextWindow: 1_000_000,
    aliases: ['claude-sonnet-4.6'],
  },
  {
    id: 'claude-opus-4-6',
    displayName: 'Claude Opus 4.6',
    thinking: 'native',
    upstreamId: 'claude-opus-4.6',
    created: day('2026-02-05'),
    ownedBy: 'anthropic',
    contextWindow: 1_000_000,
    aliases: ['claude-opus-4.6'],
  },
  {
    id: 'claude-opus-4-7',
    displayName: 'Claude Opus 4.7',
    thinking: 'native',
    upstreamId: 'claude-opus-4.7',
    created: day('2026-04-16'),
    ownedBy: 'anthropic',
    contextWindow: 1_000_000,
    aliases: ['claude-opus-4.7'],
  },
  {
    id: 'claude-opus-4-8',
    displayName: 'Claude Opus 4.8',
    thinking: 'native',
    upstreamId: 'claude-opus-4.8',
    created: day('2026-06-01'),
    ownedBy: 'anthropic',
    contextWindow: 1_000_000,
    aliases: ['claude-opus-4.8'],
  },
  {
    id: 'claude-sonnet-5',
    displayName: 'Claude Sonnet 5',
    thinking: 'native',
    upstreamId: 'claude-sonnet-5',
    created: day('2026-08-01'),
    ownedBy: 'anthropic',
    contextWindow: 1_000_000,
    aliases: [],
  },
];

export const DEFAULT_MODEL = 'claude-sonnet-4-5-20250929';
