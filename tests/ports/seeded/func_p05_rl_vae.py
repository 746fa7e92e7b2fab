import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical
torch.manual_seed(543)
class Env:
    """Toy chain: reward 1 for reaching the right end."""
    def __init__(self): self.s = 0
    def reset(self): self.s = 0; return torch.tensor([1.0, 0.0, 0.0, 0.0])
    def step(self, a):
        self.s = max(0, min(3, self.s + (1 if a == 1 else -1)))
        st = torch.zeros(4); st[self.s] = 1.0
        return st, float(self.s == 3), self.s == 3
class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(4, 16)
        self.dropout = nn.Dropout(p=0.6)
        self.action_head = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1)
        self.saved_actions, self.rewards = [], []
    def forward(self, x):
        x = F.relu(self.dropout(self.affine1(x)))
        return F.softmax(self.action_head(x), dim=-1), self.value_head(x)
policy = Policy()
optimizer = optim.Adam(policy.parameters(), lr=3e-2)
eps = torch.finfo(torch.float32).eps.item() if hasattr(torch.finfo(torch.float32).eps, 'item') else torch.finfo(torch.float32).eps
gamma = 0.99
env = Env()
for episode in range(4):
    state, ep_reward = env.reset(), 0
    for t in range(1, 12):
        probs, value = policy(state)
        m = Categorical(probs)
        action = m.sample()
        policy.saved_actions.append((m.log_prob(action), value, m.entropy()))
        state, reward, done = env.step(action.item())
        policy.rewards.append(reward); ep_reward += reward
        if done: break
    R, returns = 0, []
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_losses, value_losses = [], []
    for (log_prob, value, ent), R in zip(policy.saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage - 0.01 * ent)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
    loss.backward()
    optimizer.step()
    print(episode, t, ep_reward, round(loss.item(), 5), returns[:3])
    del policy.rewards[:]; del policy.saved_actions[:]
print(policy.action_head.bias)
# VAE
torch.manual_seed(1)
class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(16, 12); self.fc21 = nn.Linear(12, 3); self.fc22 = nn.Linear(12, 3)
        self.fc3 = nn.Linear(3, 12); self.fc4 = nn.Linear(12, 16)
    def encode(self, x):
        h1 = F.relu(self.fc1(x)); return self.fc21(h1), self.fc22(h1)
    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar); eps = torch.randn_like(std); return mu + eps * std
    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))
    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 16))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 16), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD
model = VAE(); opt = optim.Adam(model.parameters(), lr=1e-3)
X = torch.rand(20, 1, 4, 4)
loader = torch.utils.data.DataLoader(X, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(3))
for epoch in range(3):
    model.train(); train_loss = 0
    for batch_idx, data in enumerate(loader):
        opt.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward(); train_loss += loss.item(); opt.step()
    print('====> Epoch: {} Average loss: {:.4f}'.format(epoch, train_loss / len(loader.dataset)))
with torch.no_grad():
    sample = model.decode(torch.randn(2, 3))
print(sample.view(2, 1, 4, 4)[1, 0])
